package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// Meta says where a message came from.
type Meta struct {
	Source    string    // sqs, webhook, lambda or replay
	MessageID string    // the source's id for the message; unique per source
	Received  time.Time // when the source received it
}

// Outcome is what the pipeline did with a message it committed.
type Outcome string

// The outcomes. Each means the message is safely handled and may be
// acknowledged.
const (
	Committed Outcome = "committed" // at least one incident opened (its run enqueued)
	Duplicate Outcome = "duplicate" // counted on open incidents; nothing new to run
	NoMatch   Outcome = "no_match"  // decoded, but no playbook wanted it
)

// Sink is the pipeline as sources see it. Ingest decodes raw, matches it
// and commits it to the ledger. A nil error means committed: acknowledge.
// A *PoisonError means it can never be decoded: quarantine. Any other
// error means not committed: do not acknowledge, let it come back.
type Sink interface {
	Ingest(ctx context.Context, raw []byte, meta Meta) (Outcome, error)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, raw []byte, meta Meta) (Outcome, error)

// Ingest calls f.
func (f SinkFunc) Ingest(ctx context.Context, raw []byte, meta Meta) (Outcome, error) {
	return f(ctx, raw, meta)
}

// PoisonError is a message that no retry can decode. Err says why and
// where (the decoder's field path and position).
type PoisonError struct {
	Err error
}

func (e *PoisonError) Error() string { return "poison: " + e.Err.Error() }

func (e *PoisonError) Unwrap() error { return e.Err }

// Poison marks err as a poison error.
func Poison(err error) error {
	if err == nil {
		return nil
	}
	return &PoisonError{Err: err}
}

// Poisoned returns the poison error in err's chain, if any.
func Poisoned(err error) (*PoisonError, bool) {
	var pe *PoisonError
	ok := errors.As(err, &pe)
	return pe, ok
}

// Quarantiner sets poisoned messages aside with their reason.
type Quarantiner interface {
	Quarantine(ctx context.Context, p ledger.Poisoned) error
}

// Ledger quarantines in the ledger's quarantine table.
type Ledger struct{ Store ledger.Store }

// Quarantine records p in one ledger transaction.
func (l Ledger) Quarantine(ctx context.Context, p ledger.Poisoned) error {
	return l.Store.Update(ctx, func(tx ledger.Tx) error {
		_, err := tx.Quarantine(ctx, p)
		return err
	})
}

// Quarantine records a poisoned message; it is the one place sources turn
// a poison error into a ledger row.
func Quarantine(ctx context.Context, q Quarantiner, meta Meta, body []byte, reason error) error {
	if err := q.Quarantine(ctx, ledger.Poisoned{
		Source: meta.Source, MessageID: meta.MessageID, Reason: reason.Error(), Body: body, Seen: meta.Received,
	}); err != nil {
		return fmt.Errorf("%s message %s: quarantine: %w", meta.Source, meta.MessageID, err)
	}
	return nil
}
