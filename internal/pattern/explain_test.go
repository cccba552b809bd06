package pattern

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		event   string
		want    string
	}{
		{"matches", `{"source":["aws.ec2"]}`, ec2Event, ""},
		{"wrong value", `{"source":["aws.ec2"],"detail":{"state":["running"]}}`, ec2Event,
			`detail.state: value "terminated" does not match ["running"]`},
		{"missing field", `{"detail":{"severity":[{"numeric":[">",5]}]}}`, ec2Event,
			`detail.severity: the event has no value here, want [{"numeric":[">",5]}]`},
		{"present but must not exist", `{"detail":{"state":[{"exists":false}]}}`, ec2Event,
			`detail.state: value "terminated" does not match [{"exists":false}]`},
		{"several values", `{"a":["z"]}`, `{"a":["x",1,true,null]}`,
			`a: values "x", 1, true, and 1 more do not match ["z"]`},
		{"array elements", `{"a":{"b":[1],"c":[4]}}`, `{"a":[{"b":1,"c":2},{"b":3,"c":4}]}`,
			`every field matches on its own, but not within the same element of an array`},
		{"alternatives", `{"$or":[{"a":["x"]},{"b":[{"prefix":"y"}]}]}`, `{"a":"q","b":"q"}`,
			"alternative 1 of 2: a: value \"q\" does not match [\"x\"]\nalternative 2 of 2: b: value \"q\" does not match [{\"prefix\":\"y\"}]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMatcher()
			if err := m.Add("p", []byte(tc.pattern)); err != nil {
				t.Fatal(err)
			}
			got, err := m.Explain([]byte(tc.event), "p")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewMatcher().Explain([]byte(`{}`), "nope"); err == nil {
		t.Error("unknown pattern: no error")
	}
}
