package event_test

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// modify decodes a sample into a generic value, lets change edit it, and
// re-encodes it: a variant of a real event for a case the samples lack.
func modify(t *testing.T, name string, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readSample(t, name), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

// TestSubjectVariants covers subject locations that the samples do not
// exercise, each on a real sample changed the way the source documents.
func TestSubjectVariants(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  map[string][]string
	}{
		{
			name: "Health risk event with eventMetadata and keys in resources",
			input: modify(t, "health/risk-credentials-exposed-aws-health-tools.json", func(m map[string]any) {
				m["resources"] = []any{"AKIAIOSFODNN7EXAMPLE"}
				d := obj(m, "detail")
				d["affectedEntities"] = []any{map[string]any{"entityValue": "AKIAIOSFODNN7EXAMPLE"}}
				d["eventMetadata"] = map[string]any{"publicKey": "AKIAIOSFODNN7EXAMPLE", "userName": "deploy-bot"}
			}),
			want: map[string][]string{
				"access_keys": {"AKIAIOSFODNN7EXAMPLE | user=deploy-bot | account=123456789012"},
				"users":       {"deploy-bot | account=123456789012 | type=IAMUser"},
			},
		},
		{
			// The member names are those of the GuardDuty API's Sequence,
			// Actor, User, ResourceV2 and NetworkEndpoint shapes.
			name: "Attack sequence with its detection: actors, resources and endpoints",
			input: modify(t, "guardduty/finding-attacksequence-iam-compromisedcredentials-panther.json", func(m map[string]any) {
				obj(m, "service")["detection"] = map[string]any{"sequence": map[string]any{
					"uid": "seq-1", "description": "credential compromise",
					"actors": []any{
						map[string]any{"id": "a1", "user": map[string]any{"name": "john_doe", "type": "IAMUser", "uid": "AIDA3UBBJ2K3TVEXAMPLE",
							"credentialUid": "AKIAIOSFODNN7EXAMPLE", "account": map[string]any{"uid": "111122223333"}}},
						map[string]any{"id": "a2", "user": map[string]any{"name": "deploy/i-0abc", "type": "AssumedRole", "credentialUid": "ASIAIOSFODNN7EXAMPLE"}},
					},
					"resources": []any{
						map[string]any{"resourceType": "EC2_INSTANCE", "uid": "arn:aws:ec2:us-west-2:123456789012:instance/i-0123456789abcdef0", "region": "us-west-2"},
						map[string]any{"resourceType": "S3_BUCKET", "uid": "arn:aws:s3:::logs-bucket", "name": "logs-bucket"},
						map[string]any{"resourceType": "EKS_CLUSTER", "uid": "prod"},
					},
					"endpoints": []any{map[string]any{"id": "e1", "ip": "198.51.100.7"}, map[string]any{"id": "e2", "domain": "example.com"}},
				}}
			}),
			want: map[string][]string{
				"access_keys": {"AKIAIOSFODNN7EXAMPLE | user=john_doe | account=111122223333", "ASIAIOSFODNN7EXAMPLE | account=123456789012"},
				"users":       {"john_doe | account=111122223333 | type=IAMUser"},
				"roles":       {"deploy | session=i-0abc | account=123456789012"},
				"instances":   {"i-0123456789abcdef0 | account=123456789012 | region=us-west-2"},
				"buckets":     {"logs-bucket"},
				"remote_ips":  {"198.51.100.7"},
			},
		},
		{
			name: "Health event with an access key, a bucket ARN and an instance ARN as entities",
			input: modify(t, "health/ec2-instance-store-drive-degraded-aws-health-tools.json", func(m map[string]any) {
				obj(m, "detail")["affectedEntities"] = []any{
					map[string]any{"entityValue": "AKIAIOSFODNN7EXAMPLE"},
					map[string]any{"entityValue": "arn:aws:s3:::logs-bucket"},
					map[string]any{"entityValue": "arn:aws:ec2:us-west-2:210987654321:instance/i-0abc"},
				}
			}),
			want: map[string][]string{
				"access_keys": {"AKIAIOSFODNN7EXAMPLE | account=123456789012"},
				"buckets":     {"logs-bucket"},
				"instances":   {"i-0abc | account=210987654321 | region=us-west-2", "i-abcd1111 | account=123456789012 | region=us-west-2"},
			},
		},
		{
			name: "GuardDuty finding for an assumed-role session",
			input: modify(t, "guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json", func(m map[string]any) {
				r := obj(m, "resource")
				r["accessKeyDetails"] = map[string]any{"accessKeyId": "ASIAEXAMPLEEXAMPLE01", "userName": "Admin", "userType": "AssumedRole"}
				delete(r, "instanceDetails")
			}),
			want: map[string][]string{
				"access_keys": {"ASIAEXAMPLEEXAMPLE01 | account=123456789012"},
				"roles":       {"Admin | account=123456789012"},
				"remote_ips":  {"198.51.100.0 | country=GeneratedFindingCountryName | org=GeneratedFindingORG"},
			},
		},
		{
			name: "GuardDuty finding for root",
			input: modify(t, "guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json", func(m map[string]any) {
				r := obj(m, "resource")
				r["accessKeyDetails"] = map[string]any{"accessKeyId": "AKIAROOTROOTROOT0001", "userName": "", "userType": "Root"}
				delete(r, "instanceDetails")
			}),
			want: map[string][]string{
				"access_keys": {"AKIAROOTROOTROOT0001 | user=root | account=123456789012"},
				"users":       {"root | account=123456789012 | type=Root"},
				"remote_ips":  {"198.51.100.0 | country=GeneratedFindingCountryName | org=GeneratedFindingORG"},
			},
		},
		{
			name: "Macie policy finding with an actor",
			input: modify(t, "macie/finding-sensitivedata-s3object-customidentifier-reveal.json", func(m map[string]any) {
				delete(m, "classificationDetails")
				delete(obj(m, "resourcesAffected"), "s3Object")
				m["type"] = "Policy:IAMUser/S3BlockPublicAccessDisabled"
				m["policyDetails"] = map[string]any{"actor": map[string]any{
					"ipAddressDetails": map[string]any{"ipAddressV4": "203.0.113.9", "ipCountry": map[string]any{"name": "Nowhere"}, "ipOwner": map[string]any{"org": "Example Org"}},
					"userIdentity": map[string]any{"type": "AssumedRole", "assumedRole": map[string]any{
						"accessKeyId": "ASIAMACIEMACIEMACIE1", "accountId": "555555555555",
						"arn":            "arn:aws:sts::555555555555:assumed-role/Ops/jane",
						"sessionContext": map[string]any{"sessionIssuer": map[string]any{"arn": "arn:aws:iam::555555555555:role/Ops", "accountId": "555555555555", "userName": "Ops"}},
					}},
				}}
			}),
			want: map[string][]string{
				"access_keys": {"ASIAMACIEMACIEMACIE1 | account=555555555555"},
				"roles":       {"Ops | arn=arn:aws:iam::555555555555:role/Ops | session=jane | account=555555555555"},
				"buckets":     {"DOC-EXAMPLE-BUCKET1"},
				"remote_ips":  {"203.0.113.9 | country=Nowhere | org=Example Org"},
			},
		},
		{
			name: "ASFF finding with instance, role and object resources, network and action details",
			input: modify(t, "securityhub/asff-fsbp-ec2.2-failed-asr.json", func(m map[string]any) {
				m["Resources"] = []any{
					map[string]any{"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0"},
					map[string]any{"Type": "AwsIamRole", "Id": "arn:aws:iam::111111111111:role/app"},
					map[string]any{"Type": "AwsS3Object", "Id": "arn:aws:s3:::data/reports/q1.csv"},
					map[string]any{"Type": "AwsIamAccessKey", "Id": "AWS::IAM::AccessKey:ASIAASFFASFFASFF0001",
						"Details": map[string]any{"AwsIamAccessKey": map[string]any{"PrincipalName": "app", "PrincipalType": "AssumedRole"}}},
				}
				m["Network"] = map[string]any{"Direction": "IN", "Protocol": "tcp", "SourceIpV4": "203.0.113.20", "SourcePort": 51000, "DestinationPort": 22}
				m["Action"] = map[string]any{"ActionType": "PORT_PROBE", "PortProbeAction": map[string]any{"PortProbeDetails": []any{
					map[string]any{"LocalPortDetails": map[string]any{"Port": 3389}, "RemoteIpDetails": map[string]any{"IpAddressV4": "203.0.113.21", "Country": map[string]any{"CountryName": "X"}}},
				}}}
			}),
			want: map[string][]string{
				"access_keys": {"ASIAASFFASFFASFF0001 | account=111111111111"},
				// the key's principal and the role resource are the same role: merged
				"roles":      {"app | arn=arn:aws:iam::111111111111:role/app | account=111111111111"},
				"instances":  {"i-0123456789abcdef0 | account=111111111111 | region=us-east-1"},
				"buckets":    {"data | keys=reports/q1.csv"},
				"remote_ips": {"203.0.113.20 | port=22 | remote_port=51000 | protocol=TCP", "203.0.113.21 | port=3389 | country=X"},
			},
		},
		{
			name: "Trusted Advisor exposed key of the root user",
			input: modify(t, "trustedadvisor/exposed-access-keys-ta-tools-readme.json", func(m map[string]any) {
				obj(m, "detail", "check-item-detail")["User Name (IAM or Root)"] = "<root_account>"
			}),
			want: map[string][]string{
				"access_keys": {"ACCESS_KEY_ID_HERE | user=<root_account> | account=111222333444"},
				"users":       {"<root_account> | account=111222333444 | type=Root"},
			},
		},
		{
			name: "CloudTrail StopInstances by an IAM user with a bucket object",
			input: modify(t, "cloudtrail/record-getcalleridentity-trufflehog-panther.json", func(m map[string]any) {
				m["eventSource"], m["eventName"] = "ec2.amazonaws.com", "StopInstances"
				m["requestParameters"] = map[string]any{"instancesSet": map[string]any{"items": []any{
					map[string]any{"instanceId": "i-0aaa"}, map[string]any{"instanceId": "i-0bbb"}}}}
				m["sourceIPAddress"] = "2001:db8::7"
			}),
			want: map[string][]string{
				"access_keys": {"AKIAIOSFODNN7EXAMPLE | user=compromised-user | account=123456789012"},
				"users":       {"compromised-user | arn=arn:aws:iam::123456789012:user/compromised-user | account=123456789012 | type=IAMUser"},
				"instances":   {"i-0aaa | account=123456789012 | region=us-east-1", "i-0bbb | account=123456789012 | region=us-east-1"},
				"remote_ips":  {"2001:db8::7"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := decode(t, tt.input)
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			got := render(evs[0]).Subjects
			for _, v := range got {
				sort.Strings(v)
			}
			for _, v := range tt.want {
				sort.Strings(v)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
		})
	}
}
