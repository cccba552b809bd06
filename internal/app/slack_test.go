package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Slack's Approve/Deny buttons reach serve at SlackInteractivityPath when
// approvers are configured, and every request there is signature-checked;
// without approvers nothing is served there.
func TestSlackInteractivityMounted(t *testing.T) {
	const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackCfg := &config.Slack{WebhookURL: secret.New("https://hooks.slack.com/services/T0/B0/x"), SigningSecret: secret.New(signingSecret), Approvers: []string{"U024BE7LH"}}
	handler := func(t *testing.T, s *config.Slack) http.Handler {
		store := ledgertest.SQLite()(t, ledger.Options{})
		a, err := app.New(context.Background(), app.Options{Config: &config.Config{Notify: config.Notify{Slack: s}}, Ledger: store, Plans: compile(t, acceptancePlaybook), IngestOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		return a.Handler()
	}
	body := "payload=" + url.QueryEscape(`{"type":"block_actions","user":{"id":"U024BE7LH","username":"alice"},"actions":[{"action_id":"firebreak_approve","value":"{\"incident\":\"none\",\"step\":\"disable\",\"item\":0}"}]}`)
	post := func(h http.Handler, sign string) int {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(sign))
		fmt.Fprintf(mac, "v0:%s:%s", ts, body)
		req := httptest.NewRequest(http.MethodPost, app.SlackInteractivityPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}

	h := handler(t, slackCfg)
	if got := post(h, "not-the-signing-secret"); got != http.StatusUnauthorized {
		t.Errorf("wrongly signed request: status %d, want %d", got, http.StatusUnauthorized)
	}
	// Correctly signed, by an approver, for an approval that does not
	// exist: it reaches the ledger, which has nothing to decide.
	if got := post(h, signingSecret); got == http.StatusUnauthorized || got == http.StatusNotFound {
		t.Errorf("signed request: status %d; want it past the signature check to the handler", got)
	}
	if got := post(handler(t, nil), signingSecret); got != http.StatusNotFound {
		t.Errorf("without approvers: status %d, want %d", got, http.StatusNotFound)
	}
}
