package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/firebreak-sec/firebreak/internal/metrics"
	"github.com/firebreak-sec/firebreak/internal/source"
)

// Name is the source name in metrics, logs and the quarantine table.
const Name = "lambda"

// Handler handles Lambda invocations.
type Handler struct {
	Sink       source.Sink
	Quarantine source.Quarantiner
	Metrics    *metrics.Metrics
	Logger     *slog.Logger
}

// Handle is the function lambda.Start runs. It returns an
// events.SQSEventResponse for an SQS batch and nil otherwise.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	_ = json.Unmarshal(payload, &probe)
	if len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs" {
		var batch events.SQSEvent
		if err := json.Unmarshal(payload, &batch); err != nil {
			return nil, fmt.Errorf("lambda: SQS batch: %w", err)
		}
		return h.SQS(ctx, batch), nil
	}
	return nil, h.event(ctx, payload)
}

func (h *Handler) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger.With("source", Name)
}

// SQS handles a batch and reports the records to keep on the queue.
func (h *Handler) SQS(ctx context.Context, batch events.SQSEvent) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, r := range batch.Records {
		meta := source.Meta{Source: Name, MessageID: r.MessageId, Received: time.Now()}
		if err := h.one(ctx, []byte(r.Body), meta); err != nil {
			h.log().Warn("record not handled; it stays on the queue", "message_id", r.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp
}

// event handles one directly delivered event.
func (h *Handler) event(ctx context.Context, payload json.RawMessage) error {
	var id struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(payload, &id)
	meta := source.Meta{Source: Name, MessageID: id.ID, Received: time.Now()}
	if meta.MessageID == "" {
		meta.MessageID = fmt.Sprintf("invocation-%d", meta.Received.UnixNano())
	}
	return h.one(ctx, bytes.TrimSpace(payload), meta)
}

// one hands one message to the sink; nil means handled (committed or
// quarantined).
func (h *Handler) one(ctx context.Context, body []byte, meta source.Meta) error {
	h.Metrics.Received(Name)
	_, err := h.Sink.Ingest(ctx, body, meta)
	pe, poison := source.Poisoned(err)
	if !poison {
		if err != nil {
			h.Metrics.Failed(Name)
		}
		return err
	}
	if h.Quarantine == nil {
		return errors.Join(pe, errors.New("no quarantine configured"))
	}
	if err := source.Quarantine(ctx, h.Quarantine, meta, body, pe.Err); err != nil {
		return err
	}
	h.Metrics.Quarantined(Name)
	h.log().Warn("message quarantined", "message_id", meta.MessageID, "reason", pe.Err)
	return nil
}
