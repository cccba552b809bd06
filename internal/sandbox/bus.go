package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
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

// MarshalJSON writes EventBridge's envelope, with version "0" and the time
// in seconds.
func (e BusEvent) MarshalJSON() ([]byte, error) {
	res := e.Resources
	if res == nil {
		res = []string{}
	}
	detail := e.Detail
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	return json.Marshal(struct {
		Version    string          `json:"version"`
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}{"0", e.ID, e.DetailType, e.Source, e.Account, e.Time.UTC().Format(time.RFC3339), e.Region, res, detail})
}

// bus delivers events to the events queue and keeps the last ones for
// Events().
type bus struct {
	queueARN   string
	cloudtrail bool

	mu     sync.Mutex
	events []BusEvent
}

const busKeep = 1000

func newBus(w *World) *bus {
	b := &bus{cloudtrail: w.Events.CloudTrail == nil || *w.Events.CloudTrail}
	if len(w.Accounts) > 0 {
		a := w.Accounts[0]
		b.queueARN = "arn:aws:sqs:" + a.Regions[0] + ":" + a.ID + ":" + w.Events.Queue
	}
	return b
}

func (b *bus) close() {}

// Publish puts ev on the bus: it is delivered, as EventBridge would deliver
// it to an SQS target, to the events queue.
func (sb *Sandbox) Publish(ctx context.Context, ev BusEvent) error {
	return sb.publishIn(ctx, sb.state(), ev)
}

func (sb *Sandbox) publishIn(_ context.Context, st *state, ev BusEvent) error {
	if ev.Source == "" || ev.DetailType == "" {
		return fmt.Errorf("sandbox: publish: an event needs a source and a detail-type")
	}
	if len(ev.Detail) > 0 && !json.Valid(ev.Detail) {
		return fmt.Errorf("sandbox: publish %s: detail is not valid JSON", ev.DetailType)
	}
	if ev.DetailType == "AWS API Call via CloudTrail" && !st.bus.cloudtrail {
		return nil
	}
	if ev.ID == "" {
		ev.ID = sb.ids.UUID()
	}
	if ev.Time.IsZero() {
		ev.Time = sb.Now()
	}
	if ev.Account == "" && len(st.accounts) > 0 {
		ev.Account = st.accounts[0].ID
	}
	if ev.Region == "" {
		ev.Region = sb.DefaultRegion()
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("sandbox: publish %s: %w", ev.DetailType, err)
	}
	st.bus.mu.Lock()
	st.bus.events = append(st.bus.events, ev)
	if len(st.bus.events) > busKeep {
		st.bus.events = st.bus.events[len(st.bus.events)-busKeep:]
	}
	st.bus.mu.Unlock()
	if err := st.sqs.deliver(st.bus.queueARN, string(body), nil); err != nil {
		return fmt.Errorf("sandbox: publish %s: %w", ev.DetailType, err)
	}
	return nil
}

// Events returns the events put on the bus (the last 1000), oldest first.
func (sb *Sandbox) Events() []BusEvent {
	st := sb.state()
	st.bus.mu.Lock()
	defer st.bus.mu.Unlock()
	return append([]BusEvent(nil), st.bus.events...)
}

// EventsQueueURL returns the URL of the queue the bus delivers to.
func (sb *Sandbox) EventsQueueURL() string {
	st := sb.state()
	q := st.sqs.queueByARN(st.bus.queueARN)
	if q == "" {
		return ""
	}
	return q
}
