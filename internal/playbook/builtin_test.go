package playbook

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/samples"
)

// Instance credentials used elsewhere are ec2-compromise's alone: it
// revokes the role's sessions and hands the instance new credentials,
// where compromised-iam-credentials would only revoke them and cut the
// instance off. Without an instance, compromised-iam-credentials answers.
func TestInstanceCredentialExfiltrationOwner(t *testing.T) {
	plans, err := Builtin(testRegistry(t))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Plan{}
	for _, p := range plans {
		byName[p.Name()] = p
	}
	// A real GuardDuty IAM finding naming an instance and a key, with the
	// exfiltration type.
	finding := func(withInstance bool) *event.Event {
		data, err := samples.Read("guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		d := m // a bare finding, not an EventBridge envelope
		d["type"] = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
		res := d["resource"].(map[string]any)
		res["accessKeyDetails"].(map[string]any)["accessKeyId"] = "ASIAIOSFODNN7EXAMPLE"
		res["accessKeyDetails"].(map[string]any)["userType"] = "AssumedRole"
		if !withInstance {
			delete(res, "instanceDetails")
		}
		if data, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		evs, err := event.Decode(data)
		if err != nil || len(evs) != 1 {
			t.Fatalf("decode: %v (%d events)", err, len(evs))
		}
		return &evs[0]
	}
	for _, tt := range []struct {
		instance           bool
		iam, ec2Compromise bool
	}{
		{instance: true, iam: false, ec2Compromise: true},
		{instance: false, iam: true, ec2Compromise: false},
	} {
		in, err := NewInput(finding(tt.instance), Incident{ID: "inc-1", Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"compromised-iam-credentials": tt.iam, "ec2-compromise": tt.ec2Compromise} {
			got, err := byName[name].Matches(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("instance=%t: %s matches = %t; want %t", tt.instance, name, got, want)
			}
		}
	}
}
