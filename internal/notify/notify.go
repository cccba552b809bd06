package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Channel delivers a report one way.
type Channel interface {
	// Name says which channel this is: email:ses, email:smtp, slack,
	// webhook, sns.
	Name() string
	// Send delivers m once and returns who it was for (addresses, a
	// topic, a host; never a secret URL), also on failure.
	Send(ctx context.Context, m Message) (to []string, err error)
}

// Message is what a channel sends: the rendered report, the redacted
// bundle it came from, and the email recipients the Owners resolver chose.
type Message struct {
	Report report.Report
	Bundle report.Bundle
	To     []string
}

// Delivery is the outcome of one channel, for the ledger.
type Delivery struct {
	Channel  string   `json:"channel"`
	To       []string `json:"to"`
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"` // redacted
	Attempts int      `json:"attempts"`
}

// Narrator writes the advisory narrative (summary and next steps) from a
// redacted bundle. See package report/narrate.
type Narrator interface {
	Narrate(ctx context.Context, b report.Bundle) (string, error)
}

// Resolver chooses the email recipients for a bundle.
type Resolver interface {
	Recipients(ctx context.Context, b report.Bundle) []string
}

// The defaults for zero Notifier fields.
const (
	DefaultTimeout     = 20 * time.Second
	DefaultAttempts    = 3
	DefaultBackoff     = 500 * time.Millisecond
	DefaultAITimeout   = 30 * time.Second
	maxBackoff         = 10 * time.Second
	narrativeMaxLength = 4000
)

// Notifier renders and delivers reports. Build it once (FromConfig);
// Notify is safe for concurrent use.
type Notifier struct {
	Templates *report.Templates // required: report.Load
	Channels  []Channel
	// Recipients chooses email recipients; nil sends to none (channels
	// with their own recipients, like SES with To, still send).
	Recipients Resolver
	// Narrator, when set, writes the AI narrative within AITimeout.
	Narrator  Narrator
	AITimeout time.Duration
	// Secrets are the configured secrets (webhook URLs, passwords,
	// tokens, keys): Redact removes their values wherever they appear.
	Secrets []secret.String
	// Timeout bounds each channel's delivery, retries included.
	Timeout time.Duration
	// Attempts is how many times a retryable failure is tried.
	Attempts int
	// Backoff is the wait before the first retry; it doubles each time.
	Backoff time.Duration
	Logger  *slog.Logger
}

// Notify redacts b, adds the AI narrative when a Narrator is set, renders
// the report and delivers it on every channel at once. It returns one
// Delivery per channel, in the order of Channels, and an error only when
// the report could not be rendered (then nothing was sent).
func (n *Notifier) Notify(ctx context.Context, b report.Bundle) ([]Delivery, error) {
	if n.Templates == nil {
		return nil, errors.New("notify: no templates (build the Notifier with FromConfig, or set Templates from report.Load)")
	}
	b = b.Redact(n.Secrets...)
	b.Narrative = ""
	if n.Narrator != nil {
		b.Narrative = n.narrate(ctx, b)
	}
	rep, err := n.Templates.Render(b)
	if err != nil {
		return nil, fmt.Errorf("notify: render report: %w", err)
	}
	var to []string
	if n.Recipients != nil {
		to = n.Recipients.Recipients(ctx, b)
	}
	m := Message{Report: rep, Bundle: b, To: to}
	out := make([]Delivery, len(n.Channels))
	var wg sync.WaitGroup
	for i, ch := range n.Channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = n.deliver(ctx, ch, m)
		}()
	}
	wg.Wait()
	return out, nil
}

// narrate asks the Narrator for the narrative and returns "" on any
// failure: the report goes out without it, and the model's error text
// never reaches anyone.
func (n *Notifier) narrate(ctx context.Context, b report.Bundle) string {
	timeout := n.AITimeout
	if timeout <= 0 {
		timeout = DefaultAITimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	text, err := n.Narrator.Narrate(ctx, b)
	if err != nil {
		n.logger().WarnContext(ctx, "AI narrative failed; sending the report without it", "incident_id", b.IncidentID, "error", report.RedactText(err.Error(), n.Secrets...))
		return ""
	}
	text = report.RedactText(text, n.Secrets...)
	if len(text) > narrativeMaxLength {
		cut := narrativeMaxLength
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}

func (n *Notifier) logger() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// deliver sends m on ch under the channel's timeout, retrying retryable
// failures.
func (n *Notifier) deliver(ctx context.Context, ch Channel, m Message) Delivery {
	timeout, attempts, backoff := n.Timeout, n.Attempts, n.Backoff
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := Delivery{Channel: ch.Name()}
	var err error
	for d.Attempts < attempts {
		d.Attempts++
		d.To, err = ch.Send(ctx, m)
		if err == nil || !Retryable(err) || d.Attempts == attempts {
			break
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
		backoff = min(2*backoff, maxBackoff)
	}
	if err != nil {
		d.Error = report.RedactText(fmt.Sprintf("%s: %v", ch.Name(), err), n.Secrets...)
		n.logger().WarnContext(ctx, "notification failed", "incident_id", m.Bundle.IncidentID, "channel", d.Channel, "attempts", d.Attempts, "error", d.Error)
		return d
	}
	d.OK = true
	return d
}

// StatusError is an HTTP endpoint's refusal.
type StatusError struct {
	Code int
	Body string // the start of the response body, redacted
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d", e.Code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body)
}

// Retryable reports whether trying again may help: HTTP 408, 425, 429 and
// 5xx answers, SMTP 4xx replies, network errors, and what action.Classify retries (AWS
// throttling and service faults). A deadline is not retried: the
// channel's time is up.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == 408 || se.Code == 425 || se.Code == 429 || se.Code >= 500
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 400 && te.Code < 500 // SMTP's transient failures
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return action.Classify(err) == action.Retry
}

// Reports is the ledger call NotifyIncident makes; ledger.Store has it.
type Reports interface {
	Report(ctx context.Context, incidentID string) (ledger.Report, error)
}

// NotifyIncident reads everything the ledger holds about an incident,
// builds its bundle (report.FromLedger) with links, and notifies.
func (n *Notifier) NotifyIncident(ctx context.Context, l Reports, incidentID string, links ...report.Link) ([]Delivery, error) {
	r, err := l.Report(ctx, incidentID)
	if err != nil {
		return nil, fmt.Errorf("notify incident %s: %w", incidentID, err)
	}
	b := report.FromLedger(r)
	b.Links = append(b.Links, links...)
	return n.Notify(ctx, b)
}
