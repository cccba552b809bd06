package sandbox

import (
	"encoding/json"
	"strings"
	"time"
)

// run decides how a command ends on an instance: the first world script
// that matches, else a built-in emulation, else success with no output.
// It reads EC2 and IAM state: call it without our lock.
func (s *ssmService) run(account, region string, n ssmNode, text, platform string) ssmOutcome {
	for _, sc := range n.scripts {
		if strings.Contains(text, sc.Match) {
			out := ssmOutcome{stdout: sc.Stdout, stderr: sc.Stderr, code: sc.ExitCode, status: sc.Status, delay: sc.Delay, polls: sc.Polls}
			if out.status == "" {
				out.status = "Success"
				if out.code != 0 {
					out.status = "Failed"
				}
			}
			out.details = out.status
			if out.status == "TimedOut" {
				out.details = "ExecutionTimedOut"
			}
			return out
		}
	}
	if ssmReadsIMDSCredentials(text) {
		return s.imdsCredentials(account, region, n, platform)
	}
	return ssmOutcome{status: "Success", details: "Success"}
}

// ssmReadsIMDSCredentials reports whether a command reads role credentials
// from the instance metadata service.
func ssmReadsIMDSCredentials(text string) bool {
	return (strings.Contains(text, "169.254.169.254") || strings.Contains(text, "[fd00:ec2::254]")) &&
		strings.Contains(text, "meta-data/iam/security-credentials")
}

// IMDSCredentialsOutput is what the sandbox answers a command that reads
// the instance's role credentials from IMDS: one line of JSON with the
// role the script found under meta-data/iam/security-credentials/ and the
// fields of IMDS's credential document that are not secret. The script it
// stands for strips SecretAccessKey and Token on the instance, so the
// sandbox never shows them (it has none to show).
type IMDSCredentialsOutput struct {
	Role        string `json:"Role"`
	Code        string `json:"Code"`
	LastUpdated string `json:"LastUpdated"`
	Type        string `json:"Type"`
	AccessKeyID string `json:"AccessKeyId"`
	Expiration  string `json:"Expiration"`
}

// imdsCredentials emulates the credential-reading script: the instance's
// current credentials, or IMDS's 404 when it has no role.
func (s *ssmService) imdsCredentials(account, region string, n ssmNode, platform string) ssmOutcome {
	c := s.sb.instanceCredentials(account, region, n.id, n.info)
	if c.Role == "" {
		if platform == "Windows" {
			return ssmOutcome{
				stderr: "Invoke-RestMethod : The remote server returned an error: (404) Not Found.\n" +
					"    + CategoryInfo          : InvalidOperation: (System.Net.HttpWebRequest:HttpWebRequest) [Invoke-RestMethod], WebException\n",
				code: 1, status: "Failed", details: "Failed",
			}
		}
		return ssmOutcome{stderr: "curl: (22) The requested URL returned error: 404\n", code: 22, status: "Failed", details: "Failed"}
	}
	out, _ := json.Marshal(IMDSCredentialsOutput{
		Role: c.Role, Code: "Success", LastUpdated: c.Issued.Format(time.RFC3339), Type: "AWS-HMAC",
		AccessKeyID: c.AccessKeyID, Expiration: c.Expiration.Format(time.RFC3339),
	})
	return ssmOutcome{stdout: string(out) + "\n", status: "Success", details: "Success"}
}
