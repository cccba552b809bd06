package event_test

import (
	"encoding/json"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

// FuzzDecode feeds the decoder every sample, some wrapped, and mutations
// of them. Decode must never panic, never return an empty result without
// an error, and every event it returns must render as valid JSON.
func FuzzDecode(f *testing.F) {
	for _, name := range samples.Names() {
		data, err := samples.Read(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		body, _ := json.Marshal(string(data))
		f.Add([]byte(`{"Body":` + string(body) + `}`))
	}
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Add([]byte(`{"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"}`))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	dec := event.Decoder{MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := dec.Decode(data)
		if err != nil {
			if evs != nil {
				t.Fatalf("events returned with error %v", err)
			}
			return
		}
		if len(evs) == 0 {
			t.Fatal("no events and no error")
		}
		for i, e := range evs {
			if !json.Valid(e.EventBridgeJSON()) {
				t.Fatalf("event %d: EventBridgeJSON is not valid JSON: %.300s", i, e.EventBridgeJSON())
			}
			s := e.Subjects
			if s.AccessKeys == nil || s.Users == nil || s.Roles == nil || s.Instances == nil || s.Buckets == nil || s.RemoteIPs == nil {
				t.Fatalf("event %d: a subject list is nil", i)
			}
			if e.FindingID == "" {
				t.Fatalf("event %d: no finding id", i)
			}
		}
	})
}
