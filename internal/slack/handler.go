package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Decider records a person's decision on a step's approval. The runner's
// (Runner) writes it to the ledger and wakes the run; it returns an error
// wrapping ledger.ErrNotFound when no approval is waiting (never asked,
// already decided, expired) and ledger.ErrConflict when another decision
// won a race.
type Decider interface {
	Decide(ctx context.Context, d runner.Decision) (ledger.Approval, error)
}

// Runner is the Decider that records decisions in store through
// runner.Decide, as `firebreak approve` does.
func Runner(store ledger.Store) Decider { return runnerDecider{store} }

type runnerDecider struct{ store ledger.Store }

func (r runnerDecider) Decide(ctx context.Context, d runner.Decision) (ledger.Approval, error) {
	return runner.Decide(ctx, r.store, d)
}

// New returns the handler for cfg (notify.slack), recording decisions in
// store through the runner.
func New(cfg config.Slack, store ledger.Store, log *slog.Logger) *Handler {
	return &Handler{
		SigningSecret: cfg.SigningSecret,
		Approvers:     slices.Clone(cfg.Approvers),
		Decider:       Runner(store),
		Log:           log,
	}
}

// DefaultMaxBody bounds an interactivity request's body. Slack's payloads
// for a message with a few blocks are a few kilobytes.
const DefaultMaxBody = 64 << 10

// DefaultResponseURLPrefix is where Slack's response URLs point.
const DefaultResponseURLPrefix = "https://hooks.slack.com/"

// Handler serves Slack's interactivity request URL.
type Handler struct {
	SigningSecret secret.String
	// Approvers are the Slack user ids (U…) who may decide. Ids, not
	// handles: a handle can be changed by its owner. Empty: nobody.
	Approvers []string
	Decider   Decider

	Log     *slog.Logger     // nil discards
	Now     func() time.Time // nil is time.Now
	Client  *http.Client     // for response_url; nil is http.DefaultClient
	MaxBody int64            // 0 is DefaultMaxBody
	// ResponseURLPrefix is the only prefix a response_url may have; empty
	// is DefaultResponseURLPrefix. Tests point it at a local server.
	ResponseURLPrefix string
}

var _ http.Handler = (*Handler)(nil)

// reply is a message Slack shows: through response_url, or as the body of
// the answer to the request.
type reply struct {
	ResponseType    string  `json:"response_type,omitempty"`
	ReplaceOriginal bool    `json:"replace_original"`
	Text            string  `json:"text"`
	Blocks          []block `json:"blocks,omitempty"`
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "slack interactivity: POST only", http.StatusMethodNotAllowed)
		return
	}
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("slack interactivity: body larger than %d bytes", limit), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "slack interactivity: reading the body failed", http.StatusBadRequest)
		return
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := Verify(h.SigningSecret, r.Header, body, now()); err != nil {
		log.Warn("slack interactivity refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	in, err := ParseInteraction(body)
	if err != nil {
		log.Warn("slack interactivity: bad payload", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log = log.With("incident_id", in.Target.IncidentID, "step", in.Target.Step, "item", in.Target.Item, "slack_user", in.UserID)
	who := in.UserID
	if in.UserName != "" {
		who = in.UserName + " (" + in.UserID + ")"
	}
	if !slices.Contains(h.Approvers, in.UserID) {
		log.Warn("slack interactivity: not an approver")
		h.answer(r.Context(), w, log, in, http.StatusForbidden, reply{
			ResponseType: "ephemeral",
			Text:         fmt.Sprintf("%s, you are not an approver for Firebreak; nothing was recorded. Ask one of the approvers in notify.slack.approvers.", mention(in.UserID)),
		})
		return
	}
	if h.Decider == nil {
		log.Error("slack interactivity: no Decider configured")
		h.answer(r.Context(), w, log, in, http.StatusInternalServerError, reply{
			ResponseType: "ephemeral",
			Text:         "Firebreak is not set up to record decisions from Slack; nothing was recorded. Use `firebreak approve`/`firebreak deny`.",
		})
		return
	}
	reason := in.Reason
	if reason == "" {
		reason = "approved in Slack"
		if !in.Approve {
			reason = "denied in Slack"
		}
	}
	a, err := h.Decider.Decide(r.Context(), runner.Decision{
		IncidentID: in.Target.IncidentID, Step: in.Target.Step, Item: in.Target.Item, Approve: in.Approve,
		By: who, Channel: ledger.ChannelSlack, Reason: reason,
	})
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) || errors.Is(err, ledger.ErrConflict) {
			log.Info("slack interactivity: nothing to decide", "err", err)
			h.answer(r.Context(), w, log, in, http.StatusOK, reply{
				ResponseType: "ephemeral",
				Text: fmt.Sprintf("Step %s of incident %s has no approval waiting: it was already decided, it expired, or it was never asked. Nothing was recorded. See `firebreak incident show %s`.",
					stepName(in.Target), in.Target.IncidentID, in.Target.IncidentID),
			})
			return
		}
		log.Error("slack interactivity: recording the decision failed", "err", err)
		h.answer(r.Context(), w, log, in, http.StatusInternalServerError, reply{
			ResponseType: "ephemeral",
			Text:         "Firebreak could not record your decision; nothing was recorded. Try again, or use `firebreak approve`/`firebreak deny`.",
		})
		return
	}
	log.Info("slack interactivity: decided", "decision", a.Decision)
	verb := "Approved"
	if a.Decision == ledger.Deny {
		verb = "Denied"
	}
	text := fmt.Sprintf("%s by %s at %s: %s", verb, mention(in.UserID), a.Decided.UTC().Format(time.RFC3339), escape(a.Reason))
	h.answer(r.Context(), w, log, in, http.StatusOK, reply{
		ReplaceOriginal: true,
		Text:            text,
		Blocks:          decidedBlocks(in.Target, text),
	})
}

// answer sends rep to the payload's response_url and writes it as the
// response body with code too.
func (h *Handler) answer(ctx context.Context, w http.ResponseWriter, log *slog.Logger, in Interaction, code int, rep reply) {
	b, _ := marshal(rep) // plain strings cannot fail
	if in.ResponseURL != "" {
		if err := h.respond(ctx, in.ResponseURL, b); err != nil {
			log.Warn("slack interactivity: updating the message failed", "err", err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// respondTimeout bounds the post to response_url: Slack waits three
// seconds for the answer to the request.
const respondTimeout = 2 * time.Second

func (h *Handler) respond(ctx context.Context, url string, body []byte) error {
	prefix := h.ResponseURLPrefix
	if prefix == "" {
		prefix = DefaultResponseURLPrefix
	}
	if !strings.HasPrefix(url, prefix) {
		return fmt.Errorf("response_url: not under %s", prefix)
	}
	ctx, cancel := context.WithTimeout(ctx, respondTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("response_url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The response URL is a short-lived credential: keep it out.
		return errors.New("response_url: post failed")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("response_url: answered %s", resp.Status)
	}
	return nil
}

func mention(userID string) string { return "<@" + escape(userID) + ">" }

func stepName(t Target) string { return fmt.Sprintf("%s[%d]", t.Step, t.Item) }
