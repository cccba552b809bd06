package narrate_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/notify/narrate"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

const (
	apiKey    = "sk-test-0123456789abcdefghij"
	narrative = "An attacker used Dana's leaked key from 198.51.100.23 and created user backup-svc.\n1. Delete user backup-svc."
)

// secretBundle is the example bundle with secrets planted where a careless
// action output might put them.
func secretBundle() report.Bundle {
	b := report.Example()
	b.Actions[0].Summary += "; secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	b.Actions[1].Error = "posting to https://hooks.slack.com/services/T0/B0/slacktokenXYZ failed with " + apiKey
	return b
}

var planted = []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "slacktokenXYZ", apiKey}

// openAIServer answers chat completions the way the OpenAI API does,
// after the delay, with status and the content given.
type openAIServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []openAIRequest
}

type openAIRequest struct {
	path, auth string
	body       struct {
		Model    string
		Messages []struct{ Role, Content string }
	}
}

func newOpenAI(t *testing.T, delay time.Duration, status int, answer string) *openAIServer {
	s := &openAIServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req openAIRequest
		req.path, req.auth = r.URL.Path, r.Header.Get("Authorization")
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &req.body); err != nil {
			t.Errorf("request is not JSON: %v", err)
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func completion(content string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
	})
	return string(b)
}

func TestOpenAIPrompt(t *testing.T) {
	srv := newOpenAI(t, 0, 200, completion("  "+narrative+"\n"))
	o := narrate.OpenAI{Endpoint: srv.URL + "/v1", Model: "gpt-test", APIKey: secret.New(apiKey)}
	got, err := o.Narrate(context.Background(), secretBundle())
	if err != nil {
		t.Fatal(err)
	}
	if got != narrative {
		t.Errorf("narrative = %q, want %q", got, narrative)
	}
	req := srv.requests[0]
	if req.path != "/v1/chat/completions" || req.auth != "Bearer "+apiKey || req.body.Model != "gpt-test" {
		t.Errorf("request = %s %q model %q", req.path, req.auth, req.body.Model)
	}
	if len(req.body.Messages) != 2 || req.body.Messages[0].Role != "system" || req.body.Messages[1].Role != "user" {
		t.Fatalf("messages = %+v", req.body.Messages)
	}
	prompt := req.body.Messages[1].Content
	for _, want := range []string{`"incident_id": "inc_01J9Z8K3T5Q2W7E4R6Y1U0I9O8"`, `"value": "sts:GetCallerIdentity"`, "outside the owner's known addresses", `"succeeded": true`, "AKIAEXAMPLEDEVKEY001"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt lacks evidence %q", want)
		}
	}
	for _, s := range planted {
		if strings.Contains(prompt, s) || strings.Contains(req.body.Messages[0].Content, s) {
			t.Errorf("prompt carries secret %q", s)
		}
	}
}

func TestOpenAIURL(t *testing.T) {
	for endpoint, want := range map[string]string{
		"https://api.openai.com/v1":                      "https://api.openai.com/v1/chat/completions",
		"https://api.openai.com/v1/":                     "https://api.openai.com/v1/chat/completions",
		"http://localhost:11434":                         "http://localhost:11434/v1/chat/completions",
		"https://llm.example/openai/v1/chat/completions": "https://llm.example/openai/v1/chat/completions",
		"https://llm.example/openai/v1":                  "https://llm.example/openai/v1/chat/completions",
	} {
		if got := (narrate.OpenAI{Endpoint: endpoint}).URL(); got != want {
			t.Errorf("URL(%q) = %q, want %q", endpoint, got, want)
		}
	}
}

// TestNotifierNarrative runs the whole path: the narrative appears,
// marked advisory, in every rendered form; on timeout, HTTP error or a
// malformed answer the report goes out without it and without the
// model's error text.
func TestNotifierNarrative(t *testing.T) {
	cases := []struct {
		name          string
		delay         time.Duration
		status        int
		answer        string
		wantNarrative bool
	}{
		{"answer", 0, 200, completion(narrative), true},
		{"timeout", 5 * time.Second, 200, completion(narrative), false},
		{"server error", 0, 500, `{"error":{"message":"model overloaded: internal trace id 12345 MODEL-ERROR-TEXT"}}`, false},
		{"refused key", 0, 401, `{"error":{"message":"Incorrect API key provided: MODEL-ERROR-TEXT"}}`, false},
		{"not JSON", 0, 200, `MODEL-ERROR-TEXT`, false},
		{"no choices", 0, 200, `{"choices":[]}`, false},
		{"empty content", 0, 200, completion("   "), false},
	}
	tmpl, err := report.Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOpenAI(t, tt.delay, tt.status, tt.answer)
			hook := newHook(t)
			n := &notify.Notifier{
				Templates: tmpl,
				Channels:  []notify.Channel{notify.Webhook{URL: hook.URL}},
				Narrator:  narrate.OpenAI{Endpoint: srv.URL, Model: "gpt-test", APIKey: secret.New(apiKey)},
				AITimeout: 200 * time.Millisecond,
			}
			start := time.Now()
			got, err := n.Notify(context.Background(), report.Example())
			if err != nil {
				t.Fatal(err)
			}
			if !got[0].OK {
				t.Fatalf("delivery = %+v", got[0])
			}
			if tt.delay > 0 && time.Since(start) > 4*time.Second {
				t.Errorf("Notify waited for the model past its timeout")
			}
			var p notify.WebhookPayload
			if err := json.Unmarshal(hook.body(t), &p); err != nil {
				t.Fatal(err)
			}
			const marker = "AI-WRITTEN SUMMARY (ADVISORY)"
			if has := strings.Contains(p.Report.Text, marker) && strings.Contains(p.Report.HTML, "AI-written summary (advisory)"); has != tt.wantNarrative {
				t.Errorf("advisory section present = %v, want %v", has, tt.wantNarrative)
			}
			if tt.wantNarrative {
				if p.Incident.Narrative != narrative || !strings.Contains(p.Report.Text, narrative) {
					t.Errorf("narrative = %q, text:\n%s", p.Incident.Narrative, p.Report.Text)
				}
				return
			}
			want, err := tmpl.Render(report.Example())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(p.Report.Text, want.Text); diff != "" {
				t.Errorf("text is not the template's alone (-got +want):\n%s", diff)
			}
			if strings.Contains(string(hook.body(t)), "MODEL-ERROR-TEXT") {
				t.Errorf("the model's error text reached the report")
			}
		})
	}
}

type hook struct {
	*httptest.Server
	mu   sync.Mutex
	last []byte
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.last = b
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) body(t *testing.T) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		t.Fatal("webhook got nothing")
	}
	return h.last
}

// TestBedrockConverse drives the real bedrockruntime client against an
// httptest server speaking the Converse wire format.
func TestBedrockConverse(t *testing.T) {
	var mu sync.Mutex
	var gotPath, gotAuth string
	var gotBody struct {
		System   []struct{ Text string }
		Messages []struct {
			Role    string
			Content []struct{ Text string }
		}
		InferenceConfig struct{ MaxTokens int }
	}
	status, answer := 200, `{"output":{"message":{"role":"assistant","content":[{"text":"`+strings.ReplaceAll(narrative, "\n", `\n`)+`"}]}},"stopReason":"end_turn","usage":{"inputTokens":900,"outputTokens":60,"totalTokens":960},"metrics":{"latencyMs":420}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		gotPath, gotAuth = r.URL.EscapedPath(), r.Header.Get("Authorization")
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &gotBody)
		w.Header().Set("Content-Type", "application/json")
		if status != 200 {
			w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	client := bedrockruntime.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAEXAMPLEBEDROCK01", "bedrockSecretKeyExample0123456789abcdefgh", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	})
	model := "anthropic.claude-3-5-haiku-20241022-v1:0"
	b := narrate.Bedrock{Client: client, Model: model}
	got, err := b.Narrate(context.Background(), secretBundle())
	if err != nil {
		t.Fatal(err)
	}
	if got != narrative {
		t.Errorf("narrative = %q, want %q", got, narrative)
	}
	mu.Lock()
	if gotPath != "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse" || !strings.HasPrefix(gotAuth, "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEBEDROCK01/") {
		t.Errorf("request = %s, auth %q", gotPath, gotAuth)
	}
	if len(gotBody.System) != 1 || gotBody.System[0].Text != narrate.System || len(gotBody.Messages) != 1 || gotBody.Messages[0].Role != "user" || gotBody.InferenceConfig.MaxTokens != 600 {
		t.Errorf("body = %+v", gotBody)
	}
	prompt := gotBody.Messages[0].Content[0].Text
	if !strings.Contains(prompt, `"incident_id": "inc_01J9Z8K3T5Q2W7E4R6Y1U0I9O8"`) {
		t.Errorf("prompt lacks the evidence:\n%s", prompt)
	}
	for _, s := range planted[:2] {
		if strings.Contains(prompt, s) {
			t.Errorf("prompt carries secret %q", s)
		}
	}
	status, answer = 400, `{"message":"throttled MODEL-ERROR-TEXT"}`
	mu.Unlock()
	if _, err := b.Narrate(context.Background(), report.Example()); err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("error = %v, want the service's error", err)
	}
}
