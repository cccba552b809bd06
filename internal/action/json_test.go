package action_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
)

func TestValuesJSONRoundTrip(t *testing.T) {
	m := action.Meta{ID: "test.outputs", Outputs: []action.Field{
		{Name: "status", Type: action.String},
		{Name: "key", Type: action.AccessKeyID},
		{Name: "count", Type: action.Int},
		{Name: "changed", Type: action.Bool},
		{Name: "waited", Type: action.Duration},
		{Name: "rules", Type: action.StringList},
	}}
	in := action.Values{
		"status":  action.StringValue("Inactive"),
		"key":     action.StringValue("AKIAIOSFODNN7EXAMPLE"),
		"count":   action.IntValue(3),
		"changed": action.BoolValue(true),
		"waited":  action.DurationValue(90 * time.Second),
		"rules":   action.ListValue([]string{"a", "b"}),
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"changed":true,"count":3,"key":"AKIAIOSFODNN7EXAMPLE","rules":["a","b"],"status":"Inactive","waited":"1m30s"}`
	if string(data) != want {
		t.Errorf("Marshal = %s; want %s", data, want)
	}
	got, err := m.DecodeOutputs(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, in); diff != "" {
		t.Errorf("round trip (-got +want):\n%s", diff)
	}
}

func TestDecodeOutputsErrors(t *testing.T) {
	m := action.Meta{ID: "test.outputs", Outputs: []action.Field{
		{Name: "key", Type: action.AccessKeyID},
		{Name: "count", Type: action.Int},
	}}
	tests := []struct {
		data string
		want string
	}{
		{`{"key": 5}`, "key: want a JSON string for access_key_id"},
		{`{"key": "nope"}`, `key: "nope" is not an access key id`},
		{`{"count": 1.5}`, "count: want a JSON whole number"},
		{`{"other": 1}`, "other is not a declared output"},
		{`[1]`, "test.outputs outputs"},
	}
	for _, tt := range tests {
		_, err := m.DecodeOutputs([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeOutputs(%s) = %v; want an error containing %q", tt.data, err, tt.want)
		}
	}
}
