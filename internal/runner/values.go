package runner

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// encodeValues turns action values into plain JSON for the ledger:
// strings, numbers, booleans, durations as "1m30s", lists as arrays.
func encodeValues(vs action.Values) map[string]any {
	out := make(map[string]any, len(vs))
	for name, v := range vs {
		switch v.Kind() {
		case action.KindDuration:
			out[name] = v.Duration().String()
		default:
			out[name] = v.Native()
		}
	}
	return out
}

// decodeValues reads what encodeValues wrote back into typed values, by
// the declared fields. Fields the JSON lacks are left out; a field of the
// wrong shape is an error naming it.
func decodeValues(raw json.RawMessage, fields []action.Field) (action.Values, error) {
	out := action.Values{}
	if len(raw) == 0 {
		return out, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	for _, f := range fields {
		b, ok := m[f.Name]
		if !ok || string(b) == "null" {
			continue
		}
		v, err := decodeValue(b, f.Type)
		if err != nil {
			return nil, fmt.Errorf("output.%s: %w", f.Name, err)
		}
		out[f.Name] = v
	}
	return out, nil
}

func decodeValue(b json.RawMessage, t action.Type) (action.Value, error) {
	switch t.Kind() {
	case action.KindInt:
		var n int64
		err := json.Unmarshal(b, &n)
		return action.IntValue(n), err
	case action.KindBool:
		var v bool
		err := json.Unmarshal(b, &v)
		return action.BoolValue(v), err
	case action.KindDuration:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return action.Value{}, err
		}
		d, err := time.ParseDuration(s)
		return action.DurationValue(d), err
	case action.KindStringList:
		var l []string
		err := json.Unmarshal(b, &l)
		return action.ListValue(l), err
	}
	var s string
	err := json.Unmarshal(b, &s)
	return action.StringValue(s), err
}
