package action_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
)

func TestValidateTargets(t *testing.T) {
	withParams := func(m action.Meta, ps ...action.Param) action.Meta { m.Params = ps; return m }
	key := action.Param{Name: "access_key_id", Type: action.AccessKeyID, Required: true, Doc: "the key"}
	keyTarget := key
	keyTarget.Target = action.TargetAccessKey
	tests := []struct {
		name   string
		action action.Action
		want   string // "" for valid; else a substring of the error
	}{
		{"changing aws action with a target", revertingAction{testAction{withParams(disableKey(), keyTarget)}}, ""},
		{"changing aws action without a target", revertingAction{testAction{withParams(disableKey(), key)}}, "changes AWS but declares no target param"},
		{"destructive aws action without a target", testAction{func() action.Meta {
			m := withParams(disableKey(), key)
			m.Risk, m.RevertIAM = action.Destructive, nil
			return m
		}()}, "changes AWS but declares no target param"},
		{"read-only aws action needs no target", testAction{describeInstances()}, ""},
		{"core action needs no target", testAction{func() action.Meta {
			m := withParams(disableKey(), key)
			m.ID, m.Risk, m.IAM, m.RevertIAM = "core.note", action.Destructive, nil, nil
			return m
		}()}, ""},
		{"unknown target kind", revertingAction{testAction{func() action.Meta {
			p := keyTarget
			p.Target = "gizmo"
			return withParams(disableKey(), p)
		}()}}, `param 0 (access_key_id): unknown target kind "gizmo"`},
		{"target held in an int", revertingAction{testAction{withParams(disableKey(), keyTarget,
			action.Param{Name: "n", Type: action.Int, Doc: "n", Target: action.TargetUser})}}, "param 1 (n): target user is held as int"},
		{"target in a string list", revertingAction{testAction{withParams(disableKey(),
			action.Param{Name: "users", Type: action.StringList, Required: true, Doc: "u", Target: action.TargetUser})}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := action.Validate(tt.action)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v; want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate: nil; want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate: %v; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMetaTargets(t *testing.T) {
	m := disableKey()
	m.Params = append(m.Params, action.Param{Name: "role", Type: action.IAMName, Doc: "r", Target: action.TargetRole})
	var got []string
	for _, p := range m.Targets() {
		got = append(got, p.Name+"="+string(p.Target))
	}
	want := []string{"access_key_id=access_key", "role=role"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Targets (-got +want):\n%s", diff)
	}
	for _, k := range action.TargetKinds() {
		if !k.Known() {
			t.Errorf("TargetKinds lists %q but Known says no", k)
		}
	}
	if action.TargetKind("").Known() {
		t.Error(`Known("") = true; the zero kind is "not a target"`)
	}
}
