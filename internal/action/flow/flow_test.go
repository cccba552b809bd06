package flow_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/flow"
)

func TestLog(t *testing.T) {
	tests := []struct {
		name     string
		params   action.Values
		wantLine string // substring of the log line; "" for an error
		wantErr  string
	}{
		{"default level", action.Values{"message": action.StringValue("key disabled")}, `level=INFO msg="key disabled" dry_run=false`, ""},
		{"warn", action.Values{"message": action.StringValue("x"), "level": action.StringValue("warn")}, "level=WARN msg=x", ""},
		{"bad level", action.Values{"message": action.StringValue("x"), "level": action.StringValue("loud")}, "", `level "loud" is not debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			call := action.Call{Params: tt.params, Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			if err := (flow.Log{}).Meta().CheckParams(tt.params); err != nil {
				t.Fatal(err)
			}
			got, err := flow.Log{}.Do(context.Background(), call)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || action.Classify(err) != action.Permanent {
					t.Fatalf("Do error = %v (%s); want a permanent error containing %q", err, action.Classify(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), tt.wantLine) {
				t.Errorf("log %q lacks %q", buf.String(), tt.wantLine)
			}
			if diff := cmp.Diff(got, action.Values{"message": tt.params["message"]}); diff != "" {
				t.Errorf("outputs (-got +want):\n%s", diff)
			}
		})
	}
}

func TestWait(t *testing.T) {
	params := func(d time.Duration) action.Values { return action.Values{"duration": action.DurationValue(d)} }

	got, err := flow.Wait{}.Do(context.Background(), action.Call{Params: params(20 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if w := got.Duration("waited"); w < 20*time.Millisecond {
		t.Errorf("waited %s; want at least 20ms", w)
	}

	got, err = flow.Wait{}.Do(context.Background(), action.Call{Params: params(time.Hour), DryRun: true})
	if err == nil {
		t.Errorf("a 1h wait was accepted (%v); want the %s limit enforced", got, flow.MaxWait)
	}

	got, err = flow.Wait{}.Do(context.Background(), action.Call{Params: params(10 * time.Minute), DryRun: true})
	if err != nil || got.Duration("waited") != 0 {
		t.Errorf("dry run = %v, %v; want waited=0 at once", got, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = flow.Wait{}.Do(ctx, action.Call{Params: params(10 * time.Minute)})
	if action.Classify(err) != action.Retry {
		t.Errorf("cancelled wait: %v classified %s; want a retryable error", err, action.Classify(err))
	}
}
