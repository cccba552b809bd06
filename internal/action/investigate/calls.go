package investigate

import (
	"regexp"
	"slices"
	"strings"
)

// PersistenceCalls are the API calls that give an attacker a way back in
// or a foothold that outlives the leaked credentials: new identities and
// credentials, wider permissions, trust for outside principals, compute
// they control, open doors. A successful one in the window means the
// attacker got further than using the key. Names are CloudTrail
// eventNames; versioned Lambda names (CreateFunction20150331) match
// without their version.
var PersistenceCalls = []string{
	// New identities and credentials.
	"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
	"iam:CreateRole", "iam:CreateServiceSpecificCredential", "iam:UploadSSHPublicKey",
	"iam:CreateSAMLProvider", "iam:CreateOpenIDConnectProvider", "sts:GetFederationToken",
	// Wider permissions and trust.
	"iam:AttachUserPolicy", "iam:AttachRolePolicy", "iam:AttachGroupPolicy",
	"iam:PutUserPolicy", "iam:PutRolePolicy", "iam:PutGroupPolicy", "iam:AddUserToGroup",
	"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy",
	// Compute and code they control.
	"ec2:RunInstances", "ec2:CreateKeyPair", "ec2:ImportKeyPair",
	"lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:AddPermission",
	// Open doors.
	"ec2:AuthorizeSecurityGroupIngress", "s3:PutBucketPolicy", "s3:PutBucketAcl",
	// Blinding the defenders.
	"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
	"guardduty:DeleteDetector", "guardduty:UpdateDetector", "ec2:DeleteFlowLogs",
}

// AccountChecks are the account-wide changes the investigation reports,
// whoever made them, by category.
var AccountChecks = map[string][]string{
	"security group opened": {"ec2:AuthorizeSecurityGroupIngress", "ec2:ModifySecurityGroupRules"},
	"S3 access changed": {
		"s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
		"s3:PutBucketPublicAccessBlock", "s3:DeleteBucketPublicAccessBlock",
		"s3:PutAccountPublicAccessBlock", "s3:DeleteAccountPublicAccessBlock",
	},
	"IAM policy changed": {
		"iam:AttachUserPolicy", "iam:AttachRolePolicy", "iam:AttachGroupPolicy",
		"iam:PutUserPolicy", "iam:PutRolePolicy", "iam:PutGroupPolicy",
		"iam:DetachUserPolicy", "iam:DetachRolePolicy", "iam:DetachGroupPolicy",
		"iam:DeleteUserPolicy", "iam:DeleteRolePolicy", "iam:DeleteGroupPolicy",
		"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy",
	},
	"contact or billing changed": {
		"account:PutContactInformation", "account:PutAlternateContact", "account:DeleteAlternateContact",
		"aws-portal:ModifyAccount", "aws-portal:ModifyBilling", "aws-portal:ModifyPaymentMethods",
		"billing:UpdateBillingPreferences", "payments:UpdatePaymentPreferences",
	},
}

// createPrefixes mark the calls whose resources are new.
var createPrefixes = []string{"Create", "Run", "Import", "Allocate", "Register"}

// reVersion is the version suffix of Lambda's eventNames.
var reVersion = regexp.MustCompile(`[0-9]{8}(v[0-9]+)?$`)

// callName turns an event's source and name into service:Name, the form
// of the lists: iam.amazonaws.com + CreateUser is iam:CreateUser.
func callName(source, name string) string {
	service, _, _ := strings.Cut(source, ".")
	return service + ":" + reVersion.ReplaceAllString(name, "")
}

func isPersistence(source, name string) bool {
	return slices.Contains(PersistenceCalls, callName(source, name))
}

func isCreate(name string) bool {
	for _, p := range createPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// accountCheck returns the category of an account-wide change, "" when the
// call is none.
func accountCheck(source, name string) string {
	c := callName(source, name)
	for cat, calls := range AccountChecks {
		if slices.Contains(calls, c) {
			return cat
		}
	}
	return ""
}
