package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/slack"
)

const (
	signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	approverID    = "U024BE7LH"
)

var now = time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)

// world is a real SQLite ledger with one step waiting for approval, and a
// server standing in for Slack's response_url.
type world struct {
	store    ledger.Store
	incident string
	handler  *slack.Handler
	logs     *bytes.Buffer

	mu        sync.Mutex
	responses []map[string]any
	respURL   string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	store, err := ledger.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{MigrateRiver: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	w := &world{store: store, logs: new(bytes.Buffer)}
	err = store.Update(ctx, func(tx ledger.Tx) error {
		inc, _, err := tx.RecordFinding(ctx, ledger.Finding{
			DedupKey: "health/AKIAIOSFODNN7EXAMPLE", Playbook: "exposed-key", Source: "aws.health",
			FindingType: "AWS_RISK_CREDENTIALS_EXPOSED", Title: "Access key exposed", Severity: 8, SeverityLabel: "HIGH",
			Account: "123456789012", Region: "us-east-1",
			Subjects: []ledger.Subject{{Kind: ledger.SubjectAccessKey, Value: "AKIAIOSFODNN7EXAMPLE"}},
		})
		if err != nil {
			return err
		}
		w.incident = inc.ID
		run, err := tx.EnsureRun(ctx, inc.ID, "exposed-key")
		if err != nil {
			return err
		}
		key := ledger.StepKey{RunID: run.ID, StepID: "disable"}
		st, err := tx.EnsureStep(ctx, key, "aws.iam.disable_access_key", map[string]string{"access_key_id": "AKIAIOSFODNN7EXAMPLE"})
		if err != nil {
			return err
		}
		if _, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepAwaitingApproval, Attempt: st.Attempt}); err != nil {
			return err
		}
		if _, err := tx.AddEvidence(ctx, ledger.Evidence{
			IncidentID: inc.ID, Step: ledger.StepKey{RunID: run.ID, StepID: "calls"}, Kind: "cloudtrail_summary",
			Inline: json.RawMessage(`{"calls":12,"foreign_ips":["203.0.113.9"]}`),
		}); err != nil {
			return err
		}
		_, err = tx.RequestApproval(ctx, ledger.ApprovalRequest{
			IncidentID: inc.ID, Step: key, RequestedBy: "playbook exposed-key", What: "aws.iam.disable_access_key", Why: "exposed key",
			Expires: time.Now().Add(time.Hour),
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("response_url body: %v", err)
		}
		w.mu.Lock()
		w.responses = append(w.responses, m)
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.respURL = srv.URL + "/actions/T1/1/abc"
	w.handler = &slack.Handler{
		SigningSecret:     secret.New(signingSecret),
		Approvers:         []string{approverID},
		Decider:           slack.Runner(store),
		Log:               slog.New(slog.NewTextHandler(w.logs, nil)),
		Now:               func() time.Time { return now },
		Client:            srv.Client(),
		ResponseURLPrefix: srv.URL + "/",
	}
	return w
}

// payload is a block_actions click as Slack sends it.
func (w *world) payload(userID, actionID, reason string) []byte {
	p := map[string]any{
		"type":         "block_actions",
		"token":        "verification-token-not-used",
		"team":         map[string]any{"id": "T0001", "domain": "example"},
		"user":         map[string]any{"id": userID, "username": "alice", "name": "alice", "team_id": "T0001"},
		"api_app_id":   "A0001",
		"trigger_id":   "1.2.3",
		"response_url": w.respURL,
		"container":    map[string]any{"type": "message", "message_ts": "1.2", "channel_id": "C1"},
		"actions": []any{map[string]any{
			"action_id": actionID, "block_id": "firebreak_decide", "type": "button", "action_ts": "1.3",
			"text":  map[string]any{"type": "plain_text", "text": "Approve"},
			"value": slack.Target{IncidentID: w.incident, Step: "disable"}.Value(),
		}},
	}
	if reason != "" {
		p["state"] = map[string]any{"values": map[string]any{slack.BlockReason: map[string]any{slack.ActionReason: map[string]any{"type": "plain_text_input", "value": reason}}}}
	}
	b, _ := json.Marshal(p)
	return []byte("payload=" + url.QueryEscape(string(b)))
}

func signed(body []byte, key string, at time.Time) *http.Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, "/slack/interactivity", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(slack.HeaderTimestamp, ts)
	r.Header.Set(slack.HeaderSignature, slack.SignatureHeader(secret.New(key), ts, body))
	return r
}

func (w *world) approvals(t *testing.T) []ledger.Approval {
	t.Helper()
	rep, err := w.store.Report(context.Background(), w.incident)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Approvals
}

// decided is the part of an approval a decision sets.
type decided struct {
	Decision ledger.Decision
	By       string
	Channel  ledger.Channel
	Reason   string
}

func (w *world) decisions(t *testing.T) []decided {
	var out []decided
	for _, a := range w.approvals(t) {
		if a.Decision != "" {
			out = append(out, decided{a.Decision, a.DecidedBy, a.Channel, a.Reason})
		}
	}
	return out
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name      string
		request   func(w *world) *http.Request
		wantCode  int
		wantBody  string // a substring of the answer
		wantDecid []decided
		wantReply string // a substring of what response_url got; empty: nothing posted
	}{
		{
			name: "valid approval",
			request: func(w *world) *http.Request {
				return signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now)
			},
			wantCode:  200,
			wantBody:  "Approved by <@U024BE7LH>",
			wantDecid: []decided{{ledger.Approve, "alice (U024BE7LH)", ledger.ChannelSlack, "approved in Slack"}},
			wantReply: "Approved by <@U024BE7LH> at ",
		},
		{
			name: "valid denial with a reason",
			request: func(w *world) *http.Request {
				return signed(w.payload(approverID, slack.ActionDeny, " CI key, rotating instead "), signingSecret, now)
			},
			wantCode:  200,
			wantBody:  "Denied by <@U024BE7LH>",
			wantDecid: []decided{{ledger.Deny, "alice (U024BE7LH)", ledger.ChannelSlack, "CI key, rotating instead"}},
			wantReply: "CI key, rotating instead",
		},
		{
			name: "timestamp at the edge of the window",
			request: func(w *world) *http.Request {
				return signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now.Add(-slack.MaxSkew))
			},
			wantCode:  200,
			wantDecid: []decided{{ledger.Approve, "alice (U024BE7LH)", ledger.ChannelSlack, "approved in Slack"}},
			wantReply: "Approved by",
		},
		{
			name: "tampered body",
			request: func(w *world) *http.Request {
				r := signed(w.payload(approverID, slack.ActionDeny, ""), signingSecret, now)
				body := w.payload(approverID, slack.ActionApprove, "")
				r.Body = io.NopCloser(bytes.NewReader(body))
				return r
			},
			wantCode: 401,
			wantBody: "does not match the body and the signing secret",
		},
		{
			name: "replayed stale timestamp",
			request: func(w *world) *http.Request {
				return signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now.Add(-slack.MaxSkew-time.Second))
			},
			wantCode: 401,
			wantBody: "a replay or a wrong clock",
		},
		{
			name: "timestamp from the future",
			request: func(w *world) *http.Request {
				return signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now.Add(10*time.Minute))
			},
			wantCode: 401,
			wantBody: "a replay or a wrong clock",
		},
		{
			name: "wrong secret",
			request: func(w *world) *http.Request {
				return signed(w.payload(approverID, slack.ActionApprove, ""), "not-the-secret", now)
			},
			wantCode: 401,
			wantBody: "does not match",
		},
		{
			name: "missing timestamp header",
			request: func(w *world) *http.Request {
				r := signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now)
				r.Header.Del(slack.HeaderTimestamp)
				return r
			},
			wantCode: 401,
			wantBody: "X-Slack-Request-Timestamp: missing",
		},
		{
			name: "missing signature header",
			request: func(w *world) *http.Request {
				r := signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now)
				r.Header.Del(slack.HeaderSignature)
				return r
			},
			wantCode: 401,
			wantBody: "X-Slack-Signature: missing",
		},
		{
			name: "signature without v0",
			request: func(w *world) *http.Request {
				r := signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now)
				r.Header.Set(slack.HeaderSignature, strings.TrimPrefix(r.Header.Get(slack.HeaderSignature), "v0="))
				return r
			},
			wantCode: 401,
			wantBody: "not a v0= signature",
		},
		{
			name: "oversized body",
			request: func(w *world) *http.Request {
				body := append(w.payload(approverID, slack.ActionApprove, ""), []byte("&pad="+strings.Repeat("x", slack.DefaultMaxBody))...)
				return signed(body, signingSecret, now)
			},
			wantCode: 413,
			wantBody: "body larger than 65536 bytes",
		},
		{
			name: "not an approver",
			request: func(w *world) *http.Request {
				return signed(w.payload("U999MALLORY", slack.ActionApprove, ""), signingSecret, now)
			},
			wantCode:  403,
			wantBody:  "you are not an approver",
			wantReply: "you are not an approver",
		},
		{
			name: "signed but not block_actions",
			request: func(w *world) *http.Request {
				return signed([]byte("payload="+url.QueryEscape(`{"type":"view_submission","user":{"id":"U024BE7LH"}}`)), signingSecret, now)
			},
			wantCode: 400,
			wantBody: `payload.type: "view_submission", want block_actions`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			rec := httptest.NewRecorder()
			w.handler.ServeHTTP(rec, tc.request(w))
			if got := rec.Code; got != tc.wantCode {
				t.Errorf("status: got %d, want %d (%s)", got, tc.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("body: got %q, want it to contain %q", rec.Body, tc.wantBody)
			}
			if diff := cmp.Diff(w.decisions(t), tc.wantDecid); diff != "" {
				t.Errorf("decisions in the ledger (-got +want):\n%s", diff)
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			switch {
			case tc.wantReply == "" && len(w.responses) > 0:
				t.Errorf("response_url: got %v, want nothing posted", w.responses)
			case tc.wantReply != "":
				if len(w.responses) != 1 {
					t.Fatalf("response_url: got %d posts, want 1", len(w.responses))
				}
				if got, _ := w.responses[0]["text"].(string); !strings.Contains(got, tc.wantReply) {
					t.Errorf("response_url text: got %q, want it to contain %q", got, tc.wantReply)
				}
			}
			if strings.Contains(w.logs.String(), signingSecret) || strings.Contains(rec.Body.String(), signingSecret) {
				t.Errorf("the signing secret leaked into the logs or the answer")
			}
		})
	}
}

// TestHandlerDecidedOnce clicks Approve twice and Deny once: only the
// first click is recorded, the others are told so.
func TestHandlerDecidedOnce(t *testing.T) {
	w := newWorld(t)
	for i, action := range []string{slack.ActionApprove, slack.ActionApprove, slack.ActionDeny} {
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, signed(w.payload(approverID, action, ""), signingSecret, now))
		if rec.Code != 200 {
			t.Errorf("click %d: status %d: %s", i, rec.Code, rec.Body)
		}
		want := "Approved by"
		if i > 0 {
			want = "has no approval waiting"
		}
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("click %d: got %q, want it to contain %q", i, rec.Body, want)
		}
	}
	if diff := cmp.Diff(w.decisions(t), []decided{{ledger.Approve, "alice (U024BE7LH)", ledger.ChannelSlack, "approved in Slack"}}); diff != "" {
		t.Errorf("decisions (-got +want):\n%s", diff)
	}
	// firebreak approve (the runner's path) sees it decided too.
	_, err := runner.Decide(context.Background(), w.store, runner.Decision{IncidentID: w.incident, Step: "disable", Approve: true, By: "bob", Channel: ledger.ChannelCLI, Reason: "x"})
	if err == nil {
		t.Errorf("a CLI decision after Slack's was accepted")
	}
	rep, err := w.store.Report(context.Background(), w.incident)
	if err != nil {
		t.Fatal(err)
	}
	if a := rep.Approvals[0]; a.Decided.IsZero() {
		t.Errorf("the approval has no decision time: %+v", a)
	}
}

func TestHandlerMethod(t *testing.T) {
	w := newWorld(t)
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slack/interactivity", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: got %d, want 405", rec.Code)
	}
}

// httptestClick approves w's step as the approver and returns the answer.
func httptestClick(t *testing.T, w *world) string {
	t.Helper()
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now))
	return rec.Body.String()
}

// TestHandlerRecordFails answers 500 when the ledger cannot record the
// decision, and says nothing was recorded.
func TestHandlerRecordFails(t *testing.T) {
	w := newWorld(t)
	if err := w.store.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "nothing was recorded") {
		t.Errorf("got %d %s, want 500 saying nothing was recorded", rec.Code, rec.Body)
	}
	if !strings.Contains(w.logs.String(), "recording the decision failed") {
		t.Errorf("the failure was not logged: %s", w.logs)
	}
}

// TestNew builds the handler from notify.slack and decides with it.
func TestNew(t *testing.T) {
	w := newWorld(t)
	h := slack.New(config.Slack{SigningSecret: secret.New(signingSecret), Approvers: []string{approverID}}, w.store, nil)
	h.Now = func() time.Time { return now }
	h.ResponseURLPrefix = "http://127.0.0.1:1/" // the click's response_url is elsewhere: no post
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signed(w.payload(approverID, slack.ActionDeny, "no"), signingSecret, now))
	if rec.Code != 200 {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if diff := cmp.Diff(w.decisions(t), []decided{{ledger.Deny, "alice (U024BE7LH)", ledger.ChannelSlack, "no"}}); diff != "" {
		t.Errorf("decisions (-got +want):\n%s", diff)
	}
	h.Decider = nil
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("no Decider: got %d, want 500", rec.Code)
	}
}

// TestHandlerAfterCLI: a decision made with firebreak approve first makes
// the Slack click record nothing.
func TestHandlerAfterCLI(t *testing.T) {
	w := newWorld(t)
	if _, err := runner.Decide(context.Background(), w.store, runner.Decision{
		IncidentID: w.incident, Step: "disable", Approve: false, By: "bob", Channel: ledger.ChannelCLI, Reason: "CI key",
	}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, signed(w.payload(approverID, slack.ActionApprove, ""), signingSecret, now))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "has no approval waiting") {
		t.Errorf("got %d %s, want 200 saying no approval is waiting", rec.Code, rec.Body)
	}
	if diff := cmp.Diff(w.decisions(t), []decided{{ledger.Deny, "bob", ledger.ChannelCLI, "CI key"}}); diff != "" {
		t.Errorf("decisions (-got +want):\n%s", diff)
	}
}
