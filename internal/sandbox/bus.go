package sandbox

import (
	"context"
	"encoding/json"
	"time"
)

// BusEvent is an event put on the sandbox's EventBridge-like bus. Publish
// fills ID, Time, Account and Region when they are empty and delivers the
// event, in EventBridge's envelope, to the events queue.
type BusEvent struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`      // "aws.guardduty"
	DetailType string          `json:"detail-type"` // "GuardDuty Finding"
	Account    string          `json:"account"`
	Region     string          `json:"region"`
	Time       time.Time       `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Publish puts ev on the bus.
func (sb *Sandbox) Publish(ctx context.Context, ev BusEvent) error {
	return sb.publish(ctx, ev)
}
