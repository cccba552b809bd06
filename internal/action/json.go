package action

import (
	"encoding/json"
	"fmt"
	"time"
)

// MarshalJSON writes the value as plain JSON: text as a string, an int as
// a number, a bool, a duration as its string ("1h30m0s"), a list as an
// array of strings, and no value as null. Values are stored this way in
// the ledger; Type.DecodeJSON reads them back.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case KindDuration:
		return json.Marshal(time.Duration(v.n).String())
	case KindNone:
		return []byte("null"), nil
	}
	return json.Marshal(v.Native())
}

// DecodeJSON reads a value of type t written by MarshalJSON, and checks
// it.
func (t Type) DecodeJSON(data []byte) (Value, error) {
	var v Value
	switch t.Kind() {
	case KindString:
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return Value{}, fmt.Errorf("want a JSON string for %s: %w", t, err)
		}
		v = StringValue(s)
	case KindInt:
		var n int64
		if err := json.Unmarshal(data, &n); err != nil {
			return Value{}, fmt.Errorf("want a JSON whole number for %s: %w", t, err)
		}
		v = IntValue(n)
	case KindBool:
		var b bool
		if err := json.Unmarshal(data, &b); err != nil {
			return Value{}, fmt.Errorf("want a JSON bool for %s: %w", t, err)
		}
		v = BoolValue(b)
	case KindDuration:
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return Value{}, fmt.Errorf("want a JSON string duration for %s: %w", t, err)
		}
		return t.Parse(s)
	case KindStringList:
		var l []string
		if err := json.Unmarshal(data, &l); err != nil {
			return Value{}, fmt.Errorf("want a JSON array of strings for %s: %w", t, err)
		}
		v = ListValue(l)
	default:
		return Value{}, fmt.Errorf("unknown type %q", t)
	}
	return v, t.Check(v)
}

// DecodeOutputs reads outputs stored as a JSON object (Values marshal to
// one) back into typed values, by the action's declared outputs. Unknown
// names are an error: the action's metadata must describe what it stored.
func (m Meta) DecodeOutputs(data []byte) (Values, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s outputs: %w", m.ID, err)
	}
	out := make(Values, len(raw))
	for name, r := range raw {
		f, ok := m.Output(name)
		if !ok {
			return nil, fmt.Errorf("%s outputs: %s is not a declared output", m.ID, name)
		}
		v, err := f.Type.DecodeJSON(r)
		if err != nil {
			return nil, fmt.Errorf("%s outputs: %s: %w", m.ID, name, err)
		}
		out[name] = v
	}
	return out, nil
}
