package event

import (
	"bytes"
	"encoding/json"
	"time"
)

// EventBridgeJSON renders the event in EventBridge's envelope, the
// document EventBridge patterns are written against: version, id,
// detail-type, source, account, time, region, resources and detail, in
// that order, with detail written verbatim.
func (e Event) EventBridgeJSON() []byte {
	var buf bytes.Buffer
	buf.Grow(len(e.Detail) + 256)
	str := func(name, v string) {
		buf.WriteString(`"` + name + `":`)
		b, _ := json.Marshal(v)
		buf.Write(b)
		buf.WriteByte(',')
	}
	buf.WriteString(`{"version":"0",`)
	str("id", e.ID)
	str("detail-type", e.DetailType)
	str("source", e.Source)
	str("account", e.Account)
	str("time", e.Time.UTC().Format(time.RFC3339))
	str("region", e.Region)
	buf.WriteString(`"resources":`)
	if len(e.Resources) == 0 {
		buf.WriteString("[]")
	} else {
		b, _ := json.Marshal(e.Resources)
		buf.Write(b)
	}
	buf.WriteString(`,"detail":`)
	if len(bytes.TrimSpace(e.Detail)) == 0 {
		buf.WriteString("{}")
	} else {
		buf.Write(e.Detail)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}
