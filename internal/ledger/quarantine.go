package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// MaxQuarantineBody is how much of a quarantined message's body is kept.
// Size and SHA256 always describe the whole body.
const MaxQuarantineBody = 64 << 10

// Poisoned is a message a source could not turn into events.
type Poisoned struct {
	Source    string // sqs, webhook, lambda, replay: where it came from
	MessageID string // the source's id for the message (SQS MessageId); a repeat counts on the row
	Reason    string // why, naming the field: "Body.detail: expected an object, got a JSON string"
	Body      []byte // kept redacted, at most MaxQuarantineBody bytes of it
	Seen      time.Time
}

// Quarantined is a poisoned message as the ledger holds it.
type Quarantined struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	MessageID string    `json:"message_id"`
	Reason    string    `json:"reason"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Body      string    `json:"body"` // redacted; truncated when shorter than Size
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int64     `json:"count"`
}

func (t *tx) Quarantine(ctx context.Context, p Poisoned) (Quarantined, error) {
	switch {
	case p.Source == "":
		return Quarantined{}, fmt.Errorf("poisoned.source: required: %w", ErrInvalid)
	case p.MessageID == "":
		return Quarantined{}, fmt.Errorf("poisoned.message_id: required: %w", ErrInvalid)
	case p.Reason == "":
		return Quarantined{}, fmt.Errorf("poisoned.reason: required: %w", ErrInvalid)
	}
	now := t.s.now()
	seen := p.Seen
	if seen.IsZero() {
		seen = now
	}
	body := quarantineBody(p.Body, t.s.redact)
	sum := sha256Hex(p.Body)
	var id string
	err := t.q.queryRow(ctx, `
INSERT INTO quarantine (id, source, message_id, reason, size, sha256, body, first_seen, last_seen, count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
ON CONFLICT (source, message_id) DO UPDATE SET
    count     = quarantine.count + 1,
    reason    = excluded.reason,
    last_seen = CASE WHEN excluded.last_seen > quarantine.last_seen THEN excluded.last_seen ELSE quarantine.last_seen END
RETURNING id`,
		newID(), p.Source, p.MessageID, RedactText(p.Reason), int64(len(p.Body)), sum, body, micros(seen), micros(seen)).Scan(&id)
	if err != nil {
		return Quarantined{}, fmt.Errorf("quarantine %s message %s: %w", p.Source, p.MessageID, err)
	}
	q, err := scanQuarantined(t.q.queryRow(ctx, `SELECT `+quarantineCols+` FROM quarantine WHERE id = ?`, id))
	if err != nil {
		return Quarantined{}, fmt.Errorf("quarantine %s message %s: %w", p.Source, p.MessageID, err)
	}
	if err := t.audit(ctx, "message.quarantined", "", map[string]any{
		"quarantine_id": q.ID, "source": q.Source, "message_id": q.MessageID, "reason": q.Reason,
		"size": q.Size, "sha256": q.SHA256, "count": q.Count,
	}); err != nil {
		return Quarantined{}, err
	}
	return q, nil
}

// quarantineBody keeps the start of a body, redacted: as JSON when it is
// whole JSON, as text otherwise (a truncated or broken document).
func quarantineBody(b []byte, redact func([]byte) ([]byte, error)) string {
	if len(b) <= MaxQuarantineBody && json.Valid(b) {
		if r, err := redact(b); err == nil {
			return string(r)
		}
	}
	if len(b) > MaxQuarantineBody {
		b = b[:MaxQuarantineBody]
	}
	s := string(b)
	if !utf8.ValidString(s) {
		s = "<binary: " + fmt.Sprint(len(b)) + " bytes not kept>"
	}
	return RedactText(s)
}

const quarantineCols = `id, source, message_id, reason, size, sha256, body, first_seen, last_seen, count`

func scanQuarantined(r row) (Quarantined, error) {
	var q Quarantined
	var first, last int64
	err := r.Scan(&q.ID, &q.Source, &q.MessageID, &q.Reason, &q.Size, &q.SHA256, &q.Body, &first, &last, &q.Count)
	q.FirstSeen, q.LastSeen = fromMicros(first), fromMicros(last)
	return q, err
}

func (s *store) ListQuarantine(ctx context.Context, limit int) ([]Quarantined, error) {
	if limit <= 0 {
		limit = 100
	}
	return collect(ctx, s.pool, "quarantine", scanQuarantined,
		`SELECT `+quarantineCols+` FROM quarantine ORDER BY last_seen DESC, id DESC LIMIT ?`, limit)
}
