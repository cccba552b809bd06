package ssm

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// FuzzJudge feeds judge any command output: it never fails, and no
// output but the validated key id holds a run that could be a secret key
// or a token, whatever the script printed.
func FuzzJudge(f *testing.F) {
	f.Add("Success", `{"Role":"app","Code":"Success","LastUpdated":"2026-01-01T00:00:01Z","Type":"AWS-HMAC","AccessKeyId":"ASIAAAAAAAAAAAAAAAAA","Expiration":"2026-01-01T06:00:01Z"}`, "", "Success")
	f.Add("Success", `{"Role":"wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY","Code":"Success","LastUpdated":"2026-01-01T00:00:01Z","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"}`, "", "Success")
	f.Add("Failed", "", "SecretAccessKey=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n", "Failed")
	f.Add("Success", `{"Code":"IQoJb3JpZ2luX2VjEXAMPLETOKEN"}`, "", "Success")
	f.Add("TimedOut", "", "", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")
	f.Fuzz(func(t *testing.T, status, stdout, stderr, details string) {
		v := &verify{cutoff: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), out: action.Values{}}
		v.judge(&awsssm.GetCommandInvocationOutput{
			Status: ssmtypes.CommandInvocationStatus(status), StatusDetails: aws.String(details), ResponseCode: 1,
			StandardOutputContent: aws.String(stdout), StandardErrorContent: aws.String(stderr),
		})
		for name, val := range v.out {
			if name == "access_key_id" || name == "role" {
				continue
			}
			s := val.Str()
			if m := secretish.FindString(strings.ReplaceAll(s, "<redacted>", "")); m != "" {
				t.Errorf("output %s = %q holds %q", name, s, m)
			}
		}
		if id := v.out.Str("access_key_id"); id != "" && !accessKeyRE.MatchString(id) {
			t.Errorf("access_key_id %q is not a key id", id)
		}
		if r := v.out.Str("role"); strings.ContainsAny(r, "/+") {
			t.Errorf("role %q", r)
		}
	})
}
