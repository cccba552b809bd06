package sandbox

import (
	"strings"
	"testing"
)

// TestEC2S3WorldErrors checks that mistakes in the ec2 and s3 sections of a
// world file are reported with file, line, column and field.
func TestEC2S3WorldErrors(t *testing.T) {
	head := "accounts:\n  - id: \"111111111111\"\n    roles:\n      - {name: app, trust_services: [ec2.amazonaws.com], instance_profile: app}\n"
	for _, tc := range []struct {
		name, section, want string
	}{
		{"unknown key", "    ec2:\n      vpcs:\n        - {name: a, cidr: 10.0.0.0/16, colour: red}\n", "w.yaml:7:40"},
		{"bad vpc cidr", "    ec2:\n      vpcs:\n        - {name: a, cidr: 10.0.0.0/33}\n", "w.yaml:7:27: vpcs[0].cidr"},
		{"subnet outside vpc", "    ec2:\n      vpcs:\n        - name: a\n          cidr: 10.0.0.0/16\n          subnets: [{name: s, cidr: 10.1.0.0/24}]\n", "vpcs[0].subnets[0].cidr"},
		{"unknown group in rule", "    ec2:\n      vpcs:\n        - name: a\n          cidr: 10.0.0.0/16\n          security_groups:\n            - {name: web, ingress: [{protocol: tcp, ports: \"22\", group: nope}]}\n", "vpcs[0].security_groups[0].ingress[0].group"},
		{"nacl rule number", "    ec2:\n      vpcs:\n        - name: a\n          cidr: 10.0.0.0/16\n          network_acls:\n            - {name: n, entries: [{rule: 40000, action: deny, cidr: 1.2.3.4/32}]}\n", "network_acls[0].entries[0].rule"},
		{"unknown subnet", "    ec2:\n      instances:\n        - {name: i, subnet: nope}\n", "w.yaml:7:29: instances[0].subnet"},
		{"unknown profile", "    ec2:\n      instances:\n        - {name: i, instance_profile: nope}\n", "instances[0].instance_profile: no instance profile \"nope\""},
		{"bad instance id", "    ec2:\n      instances:\n        - {id: i-xyz}\n", "instances[0].id"},
		{"bad state", "    ec2:\n      instances:\n        - {state: paused}\n", "instances[0].state"},
		{"bad bucket name", "    s3:\n      buckets:\n        - {name: Bad_Bucket}\n", "w.yaml:7:18: buckets[0].name"},
		{"bad canned acl", "    s3:\n      buckets:\n        - {name: good-bucket, acl: everyone}\n", "buckets[0].acl"},
		{"bad policy", "    s3:\n      buckets:\n        - {name: good-bucket, policy: {Statement: [{Effect: Maybe, Principal: \"*\", Action: \"s3:*\"}]}}\n", "buckets[0].policy"},
		{"unknown s3 key", "    s3:\n      buckets:\n        - {name: good-bucket, versioning: true}\n", "w.yaml:7:31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseWorld("w.yaml", []byte(head+tc.section))
			if err == nil {
				_, err = New(Options{World: w})
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
