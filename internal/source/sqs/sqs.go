package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/firebreak-sec/firebreak/internal/metrics"
	"github.com/firebreak-sec/firebreak/internal/source"
)

// API is the part of the SQS client the source uses; *sqs.Client has it.
type API interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ API = (*sqs.Client)(nil)

// Options configure a Source. Client, QueueURL, Sink and Quarantine are
// required.
type Options struct {
	Client     API
	QueueURL   string
	Sink       source.Sink
	Quarantine source.Quarantiner
	// Receivers is how many ReceiveMessage loops run at once; 2 when 0.
	Receivers int
	// VisibilityTimeout is asked for on receive and renewed every third of
	// it while a message is processed; 5m when 0.
	VisibilityTimeout time.Duration
	// WaitTime is the long-poll wait, at most 20s; 20s when 0.
	WaitTime time.Duration
	// MaxMessageBytes: larger bodies are poison; 256 KiB when 0.
	MaxMessageBytes int
	// MaxReceives is how often a failing message is tried before it is
	// quarantined; 5 when 0.
	MaxReceives int
	// MessageTimeout bounds the pipeline's work on one message; 2m when 0.
	MessageTimeout time.Duration
	// DLQ, when set, is where poison is moved (sent, then deleted).
	DLQ string
	// DeletePoison deletes quarantined messages instead of leaving them to
	// the queue's redrive policy, when DLQ is empty.
	DeletePoison bool
	Metrics      *metrics.Metrics
	Logger       *slog.Logger
}

// Source receives events from one queue.
type Source struct {
	o   Options
	log *slog.Logger
}

// Name is the source name in metrics, logs and the quarantine table.
const Name = "sqs"

// New checks o and returns a Source.
func New(o Options) (*Source, error) {
	switch {
	case o.Client == nil:
		return nil, errors.New("sqs source: no client")
	case o.QueueURL == "":
		return nil, errors.New("sqs source: queue_url: required")
	case o.Sink == nil:
		return nil, errors.New("sqs source: no sink")
	case o.Quarantine == nil:
		return nil, errors.New("sqs source: no quarantine")
	case o.WaitTime > 20*time.Second:
		return nil, fmt.Errorf("sqs source: wait time %s: at most 20s", o.WaitTime)
	}
	if o.Receivers <= 0 {
		o.Receivers = 2
	}
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = 5 * time.Minute
	}
	if o.VisibilityTimeout < 3*time.Second {
		o.VisibilityTimeout = 3 * time.Second
	}
	if o.WaitTime <= 0 {
		o.WaitTime = 20 * time.Second
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 256 << 10
	}
	if o.MessageTimeout <= 0 {
		o.MessageTimeout = 2 * time.Minute
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = 5
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{o: o, log: log.With("source", Name, "queue_url", o.QueueURL)}, nil
}

// Run receives until ctx is done, then finishes the batches in hand
// (their ledger work and deletes run on a context that is not cancelled,
// each message bounded by MessageTimeout) and returns nil.
func (s *Source) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range s.o.Receivers {
		wg.Go(func() { s.receive(ctx, i) })
	}
	wg.Wait()
	return nil
}

// receive is one ReceiveMessage loop.
func (s *Source) receive(ctx context.Context, n int) {
	log := s.log.With("receiver", n)
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		out, err := s.o.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(s.o.QueueURL),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             int32(s.o.WaitTime / time.Second),
			VisibilityTimeout:           int32(s.o.VisibilityTimeout / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.o.Metrics.AWSError("sqs", err)
			backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
			log.Warn("receive failed; retrying", "err", err, "backoff", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		if len(out.Messages) > 0 {
			s.batch(context.WithoutCancel(ctx), out.Messages, log)
		}
	}
}

// batch processes the messages of one receive, keeping them invisible
// meanwhile, and deletes what was committed or quarantined.
func (s *Source) batch(ctx context.Context, msgs []types.Message, log *slog.Logger) {
	var mu sync.Mutex
	inFlight := map[string]bool{} // receipt handles still being processed
	for _, m := range msgs {
		inFlight[aws.ToString(m.ReceiptHandle)] = true
	}
	hbDone := make(chan struct{})
	hbCtx, stopHB := context.WithCancel(ctx)
	go func() {
		defer close(hbDone)
		s.heartbeat(hbCtx, &mu, inFlight, log)
	}()

	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		ack := s.message(ctx, m, log)
		mu.Lock()
		delete(inFlight, aws.ToString(m.ReceiptHandle))
		mu.Unlock()
		if ack {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	stopHB()
	<-hbDone
	if len(del) == 0 {
		return
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := s.o.Client.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.o.QueueURL), Entries: del})
	if err != nil {
		// Committed but not deleted: the messages come back and count as
		// repeats on their incidents. Nothing is lost.
		s.o.Metrics.AWSError("sqs", err)
		log.Error("delete failed; committed messages will be delivered again", "err", err, "messages", len(del))
		return
	}
	for _, f := range out.Failed {
		log.Error("delete failed; committed message will be delivered again", "entry", aws.ToString(f.Id), "code", aws.ToString(f.Code), "reason", aws.ToString(f.Message))
	}
}

// heartbeat extends the visibility of the messages in flight every third
// of the visibility timeout.
func (s *Source) heartbeat(ctx context.Context, mu *sync.Mutex, inFlight map[string]bool, log *slog.Logger) {
	t := time.NewTicker(s.o.VisibilityTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mu.Lock()
		handles := make([]string, 0, len(inFlight))
		for h := range inFlight {
			handles = append(handles, h)
		}
		mu.Unlock()
		for _, h := range handles {
			s.setVisibility(ctx, h, s.o.VisibilityTimeout, log)
		}
	}
}

func (s *Source) setVisibility(ctx context.Context, handle string, d time.Duration, log *slog.Logger) {
	_, err := s.o.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(s.o.QueueURL), ReceiptHandle: aws.String(handle), VisibilityTimeout: int32(d / time.Second),
	})
	if err != nil && ctx.Err() == nil {
		s.o.Metrics.AWSError("sqs", err)
		log.Warn("change visibility failed", "err", err)
	}
}

// message hands one message to the sink and reports whether to delete it.
func (s *Source) message(ctx context.Context, m types.Message, log *slog.Logger) bool {
	meta := source.Meta{Source: Name, MessageID: aws.ToString(m.MessageId), Received: time.Now()}
	log = log.With("message_id", meta.MessageID)
	s.o.Metrics.Received(Name)
	body := []byte(aws.ToString(m.Body))
	receives, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])

	var err error
	if len(body) > s.o.MaxMessageBytes {
		err = source.Poison(fmt.Errorf("message body is %d bytes, more than max_message_bytes %d", len(body), s.o.MaxMessageBytes))
	} else {
		var out source.Outcome
		ictx, cancel := context.WithTimeout(ctx, s.o.MessageTimeout)
		out, err = s.o.Sink.Ingest(ictx, body, meta)
		cancel()
		if err == nil {
			log.Debug("message committed", "outcome", out)
			return true
		}
	}
	pe, poison := source.Poisoned(err)
	if !poison {
		s.o.Metrics.Failed(Name)
		if receives < s.o.MaxReceives {
			wait := min(time.Duration(1<<min(max(receives-1, 0), 10))*time.Second, s.o.VisibilityTimeout)
			log.Warn("message not committed; it will be delivered again", "err", err, "receives", receives, "retry_in", wait)
			s.setVisibility(ctx, aws.ToString(m.ReceiptHandle), wait, log)
			return false
		}
		pe = &source.PoisonError{Err: fmt.Errorf("not committed after %d receives: %w", receives, err)}
	}
	if qerr := source.Quarantine(ctx, s.o.Quarantine, meta, body, pe.Err); qerr != nil {
		s.o.Metrics.Failed(Name)
		log.Error("poison message not quarantined; it will be delivered again", "err", qerr, "reason", pe.Err)
		return false
	}
	s.o.Metrics.Quarantined(Name)
	log.Warn("message quarantined", "reason", pe.Err, "receives", receives)
	switch {
	case s.o.DLQ != "":
		if _, err := s.o.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.o.DLQ), MessageBody: m.Body}); err != nil {
			s.o.Metrics.AWSError("sqs", err)
			log.Error("poison message not moved to the DLQ; it stays on the queue", "err", err, "dlq", s.o.DLQ)
			return false
		}
		return true
	case s.o.DeletePoison:
		return true
	}
	// Leave it to the queue's redrive policy: visible again now, so that
	// it reaches maxReceiveCount without waiting out the timeout.
	s.setVisibility(ctx, aws.ToString(m.ReceiptHandle), 0, log)
	return false
}
