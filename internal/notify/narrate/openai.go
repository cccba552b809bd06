package narrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// OpenAI asks an OpenAI-compatible chat completions API (OpenAI, Azure
// OpenAI's compatible endpoint, vLLM, Ollama, LiteLLM, ...).
type OpenAI struct {
	// Endpoint is the API base URL, such as https://api.openai.com/v1;
	// /chat/completions is added (and /v1 before it when the URL has no
	// path). A URL already ending in /chat/completions is used as is.
	Endpoint string
	Model    string
	APIKey   secret.String
	Client   *http.Client // nil uses http.DefaultClient
	// Secrets are redacted from the prompt besides the usual rules.
	Secrets   []secret.String
	MaxTokens int // 600 when 0
}

// URL is where requests go.
func (o OpenAI) URL() string {
	u := strings.TrimRight(o.Endpoint, "/")
	switch {
	case strings.HasSuffix(u, "/chat/completions"):
		return u
	case strings.Count(u, "/") <= 2: // scheme://host
		return u + "/v1/chat/completions"
	}
	return u + "/chat/completions"
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Narrate implements notify.Narrator.
func (o OpenAI) Narrate(ctx context.Context, b report.Bundle) (string, error) {
	prompt, err := Prompt(b, append(o.Secrets, o.APIKey)...)
	if err != nil {
		return "", err
	}
	maxTokens := o.MaxTokens
	if maxTokens <= 0 {
		maxTokens = 600
	}
	body, err := json.Marshal(map[string]any{
		"model":       o.Model,
		"messages":    []chatMessage{{Role: "system", Content: System}, {Role: "user", Content: prompt}},
		"temperature": 0.2,
		"max_tokens":  maxTokens,
	})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL(), bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("openai: bad endpoint")
	}
	req.Header.Set("Content-Type", "application/json")
	if !o.APIKey.IsZero() {
		req.Header.Set("Authorization", "Bearer "+o.APIKey.Reveal())
	}
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("openai: %w", ctx.Err())
		}
		return "", errors.New("openai: " + report.RedactText(err.Error(), o.APIKey))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("openai: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("openai: HTTP %d", resp.StatusCode)
	}
	var out struct {
		Choices []struct {
			Message      chatMessage `json:"message"`
			FinishReason string      `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("openai: answer is not a chat completion: %w", err)
	}
	if len(out.Choices) == 0 {
		return "", errors.New("openai: answer has no choices")
	}
	text := strings.TrimSpace(out.Choices[0].Message.Content)
	if text == "" {
		return "", errors.New("openai: empty answer")
	}
	return text, nil
}
