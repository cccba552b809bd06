package actiontest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// recorder is a test whose failures and cleanups are kept, not acted on.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestLogFailsOnSecrets(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	admin := sandboxtest.Admin(t, sb)
	for _, tt := range []struct {
		name, text string
		fails      bool
	}{
		{"clean", "key " + admin.AccessKeyID + " used", false},
		{"world secret", "oops " + admin.SecretAccessKey, true},
		{"extra secret", "token=planted-token", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			log := actiontest.NewLog(r, sb, "planted-token")
			log.Logger().Debug(tt.text)
			r.end()
			if got := len(r.errs) > 0; got != tt.fails {
				t.Errorf("failed = %v (%q); want %v", got, r.errs, tt.fails)
			}
			if !strings.Contains(log.String(), "level=DEBUG") {
				t.Errorf("log %q lacks the debug line", log.String())
			}
		})
	}
}

func TestCaller(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	c := actiontest.Caller{
		Clients: actiontest.Admin(t, sb), Target: action.Target{Account: "111111111111", Region: "eu-west-1"},
		Incident: "inc-9", Log: actiontest.NewLog(t, sb),
	}
	call := c.Call("contain", action.Values{"x": action.StringValue("y")})
	if call.Key != (action.Key{Incident: "inc-9", Step: "contain"}) || call.Target != c.Target || call.Logger == nil {
		t.Errorf("call %+v", call)
	}
	cfg, err := call.Clients.Config(context.Background(), call.Target)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region %q; want the target's", cfg.Region)
	}
	if (actiontest.Caller{}).Call("s", nil).Logger != nil {
		t.Error("a caller without a log set a logger")
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := actiontest.NewClock(start)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c.Advance(time.Minute)
			_ = c.Now()
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(4*time.Minute); !got.Equal(want) {
		t.Errorf("Now() = %v; want %v", got, want)
	}
}

func TestWritesSinceAndOperations(t *testing.T) {
	if got := actiontest.Operations([]action.PlannedCall{{Operation: "ec2:A"}, {Operation: "ec2:B"}}); strings.Join(got, ",") != "ec2:A,ec2:B" {
		t.Errorf("Operations = %v", got)
	}
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	if got := actiontest.WritesSince(sb, len(sb.Trail())); len(got) != 0 {
		t.Errorf("WritesSince(now) = %v; want none", got)
	}
}
