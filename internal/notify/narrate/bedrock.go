package narrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// ConverseAPI is the Bedrock call Bedrock makes; *bedrockruntime.Client
// has it.
type ConverseAPI interface {
	Converse(ctx context.Context, in *bedrockruntime.ConverseInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error)
}

// Bedrock asks a model on Amazon Bedrock through the Converse API
// (bedrock:InvokeModel permission on the model).
type Bedrock struct {
	Client    ConverseAPI
	Model     string // a model id or inference profile, anthropic.claude-3-5-haiku-20241022-v1:0
	Secrets   []secret.String
	MaxTokens int32 // 600 when 0
}

// Narrate implements notify.Narrator.
func (b Bedrock) Narrate(ctx context.Context, bundle report.Bundle) (string, error) {
	prompt, err := Prompt(bundle, b.Secrets...)
	if err != nil {
		return "", err
	}
	maxTokens := b.MaxTokens
	if maxTokens <= 0 {
		maxTokens = 600
	}
	out, err := b.Client.Converse(ctx, &bedrockruntime.ConverseInput{
		ModelId: aws.String(b.Model),
		System:  []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: System}},
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: prompt}},
		}},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(maxTokens), Temperature: aws.Float32(0.2)},
	})
	if err != nil {
		return "", fmt.Errorf("bedrock converse: %w", err)
	}
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return "", errors.New("bedrock converse: answer holds no message")
	}
	var parts []string
	for _, c := range msg.Value.Content {
		if t, ok := c.(*types.ContentBlockMemberText); ok {
			parts = append(parts, t.Value)
		}
	}
	text := strings.TrimSpace(strings.Join(parts, "\n"))
	if text == "" {
		return "", errors.New("bedrock converse: empty answer")
	}
	return text, nil
}
