package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Slack posts the report's Block Kit message to a Slack incoming webhook.
type Slack struct {
	// URL is the incoming webhook URL; it is a credential.
	URL    secret.String
	Client *http.Client // nil uses http.DefaultClient
}

var _ Channel = Slack{}

// Name implements Channel.
func (Slack) Name() string { return "slack" }

// Send implements Channel.
func (s Slack) Send(ctx context.Context, m Message) ([]string, error) {
	to := []string{"slack incoming webhook"}
	err := post(ctx, s.Client, s.URL.Reveal(), m.Report.Slack, nil, s.URL)
	return to, err
}

// maxErrorBody is how much of a refusal's body an error keeps.
const maxErrorBody = 200

// post sends body as JSON to url with headers, and turns an answer other
// than 2xx into a StatusError. Errors never carry the URL: the net/http
// errors that would are rewritten, and known secrets redacted.
func post(ctx context.Context, client *http.Client, url string, body []byte, header http.Header, secrets ...secret.String) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bad URL: %s", report.RedactText(err.Error(), append(secrets, secret.New(url))...))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "firebreak")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return &postError{err: err, msg: report.RedactText(err.Error(), append(secrets, secret.New(url))...)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		text := strings.TrimSpace(string(b))
		if len(text) > maxErrorBody {
			text = text[:maxErrorBody]
		}
		return &StatusError{Code: resp.StatusCode, Body: report.RedactText(text, append(secrets, secret.New(url))...)}
	}
	return nil
}

// postError is a transport failure whose text has the URL redacted; it
// still unwraps to the original for Retryable.
type postError struct {
	err error
	msg string
}

func (e *postError) Error() string { return e.msg }
func (e *postError) Unwrap() error { return e.err }
