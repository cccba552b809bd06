package flow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Log writes a message to the run log (core.log).
type Log struct{}

var _ action.Action = Log{}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// Meta describes core.log.
func (Log) Meta() action.Meta {
	return action.Meta{
		ID:      "core.log",
		Summary: "Write a message to the run log",
		Doc:     "The message is logged with the incident, playbook and step it belongs to. Useful to record a decision, or to see what a template resolves to.",
		Risk:    action.ReadOnly,
		Params: []action.Param{
			{Name: "message", Type: action.String, Required: true, Doc: "the text to log"},
			{Name: "level", Type: action.String, Default: action.StringValue("info"), Doc: "debug, info, warn or error"},
		},
		Outputs: []action.Field{
			{Name: "message", Type: action.String, Doc: "the text as logged"},
		},
		Idempotency: action.NotIdempotent, // a second run logs the line again
	}
}

// Do logs the message.
func (Log) Do(ctx context.Context, call action.Call) (action.Values, error) {
	name := call.Params.Str("level")
	if name == "" {
		name = "info"
	}
	level, ok := logLevels[name]
	if !ok {
		return nil, action.Mark(action.Permanent, fmt.Errorf("core.log: level %q is not debug, info, warn or error", name))
	}
	msg := call.Params.Str("message")
	if call.Logger != nil {
		call.Logger.Log(ctx, level, msg, slog.Bool("dry_run", call.DryRun))
	}
	return action.Values{"message": action.StringValue(msg)}, nil
}

// MaxWait is the longest core.wait may pause. Longer waits belong in an
// approval with a timeout, which is stored state rather than a blocked
// worker.
const MaxWait = 15 * time.Minute

// Wait pauses the run (core.wait).
type Wait struct{}

var _ action.Action = Wait{}

// Meta describes core.wait.
func (Wait) Meta() action.Meta {
	return action.Meta{
		ID:      "core.wait",
		Summary: "Pause the run for a short, bounded time",
		Doc:     "Gives an earlier change time to take effect (a disabled key to propagate) before the next step checks it. At most 15m; a dry run does not wait.",
		Risk:    action.ReadOnly,
		Params: []action.Param{
			{Name: "duration", Type: action.Duration, Required: true, Doc: "how long to wait, at most 15m"},
		},
		Outputs: []action.Field{
			{Name: "waited", Type: action.Duration, Doc: "how long the run actually waited (0 in a dry run)"},
		},
		Idempotency: action.Idempotent,
	}
}

// Do waits for the duration, or until ctx ends.
func (Wait) Do(ctx context.Context, call action.Call) (action.Values, error) {
	d := call.Params.Duration("duration")
	if d > MaxWait {
		return nil, action.Mark(action.Permanent, fmt.Errorf("core.wait: %s is longer than the %s limit", d, MaxWait))
	}
	if call.DryRun {
		return action.Values{"waited": action.DurationValue(0)}, nil
	}
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, fmt.Errorf("core.wait: %w", ctx.Err())
	}
	return action.Values{"waited": action.DurationValue(time.Since(start))}, nil
}
