package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

func TestControlAPI(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, sb.Endpoint()+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, readAll(t, resp)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"health", "GET", "/_sandbox/health", "", 200, `"ok": true`},
		{"scenarios", "GET", "/_sandbox/scenarios", "", 200, `"name": "persistence"`},
		{"set faults", "PUT", "/_sandbox/faults", `{"seed":3,"faults":[{"service":"iam","operation":"CreateUser","throttle_ratio":0.5,"latency":"5ms"}]}`, 200, `"latency": "5ms"`},
		{"get faults", "GET", "/_sandbox/faults", "", 200, `"throttle_ratio": 0.5`},
		{"bad fault", "PUT", "/_sandbox/faults", `{"faults":[{"throttle_ratio":2}]}`, 400, "throttle_ratio"},
		{"unknown field", "PUT", "/_sandbox/faults", `{"fautls":[]}`, 400, "unknown field"},
		{"publish finding", "POST", "/_sandbox/findings", `{"kind":"trustedadvisor-exposed-key"}`, 200, `"detail-type": "Trusted Advisor Check Item Refresh Notification"`},
		{"bad finding", "POST", "/_sandbox/findings", `{"kind":"x"}`, 400, "unknown finding kind"},
		{"publish event", "POST", "/_sandbox/events", `{"version":"0","source":"acme.test","detail-type":"Test","detail":{"a":1}}`, 200, `"ok": true`},
		{"events", "GET", "/_sandbox/events", "", 200, `"source": "acme.test"`},
		{"run scenario", "POST", "/_sandbox/scenarios/exposed-key", "", 200, `"call": "sts:GetCallerIdentity"`},
		{"unknown scenario", "POST", "/_sandbox/scenarios/nope", "", 404, "unknown scenario"},
		{"trail", "GET", "/_sandbox/trail", "", 200, `"eventName": "GetCallerIdentity"`},
		{"keys without secrets", "GET", "/_sandbox/keys", "", 200, `"UserName": "dana"`},
		{"outbox", "GET", "/_sandbox/outbox", "", 200, `[]`},
		{"unknown path", "GET", "/_sandbox/nope", "", 404, "no control endpoint"},
		{"reset", "POST", "/_sandbox/reset", "", 200, `"ok": true`},
		{"trail after reset", "GET", "/_sandbox/trail", "", 200, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(tt.method, tt.path, tt.body)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("%s %s = %d %s, want %d containing %s", tt.method, tt.path, status, body, tt.status, tt.contains)
			}
		})
	}
	// Control calls are not recorded, and no secret leaves through them.
	admin := sandboxtest.Admin(t, sb)
	for _, path := range []string{"/_sandbox/keys", "/_sandbox/trail", "/_sandbox/events"} {
		_, body := do("GET", path, "")
		if strings.Contains(body, admin.SecretAccessKey) {
			t.Errorf("%s leaks a secret access key", path)
		}
	}
	var recs []json.RawMessage
	_, body := do("GET", "/_sandbox/trail", "")
	_ = json.Unmarshal([]byte(body), &recs)
	if len(recs) != 0 {
		t.Errorf("control calls recorded: %s", body)
	}
}
