package guardrail

import (
	"fmt"
	"strings"
)

// principal is an IAM principal named by an ARN.
type principal struct {
	partition string
	account   string
	kind      string // "user", "role", "root", or another IAM resource type
	name      string // the user or role name, without path; "" for root
	path      string // "/" or "/a/b/"
	arn       string // as given
}

// parsePrincipal reads an IAM user, role or root ARN, or an STS
// assumed-role ARN (which names its role). Anything else is an error:
// the guardrail cannot check what it cannot read.
func parsePrincipal(arn string) (principal, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" {
		return principal{}, fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", arn)
	}
	p := principal{partition: parts[1], account: parts[4], arn: arn}
	if !isAccountID(p.account) {
		return principal{}, fmt.Errorf("ARN %q: account %q is not 12 digits", arn, p.account)
	}
	service, resource := parts[2], parts[5]
	switch service {
	case "iam":
		if resource == "root" {
			p.kind = "root"
			return p, nil
		}
		kind, rest, ok := strings.Cut(resource, "/")
		if !ok || rest == "" || strings.HasSuffix(rest, "/") {
			return principal{}, fmt.Errorf("ARN %q: resource %q is not type/name", arn, resource)
		}
		p.kind = kind
		i := strings.LastIndexByte(rest, '/')
		p.name, p.path = rest[i+1:], "/"+rest[:i+1]
		if i < 0 {
			p.path = "/"
		}
		return p, nil
	case "sts":
		// arn:aws:sts::111122223333:assumed-role/RoleName/session
		kind, rest, _ := strings.Cut(resource, "/")
		role, session, ok := strings.Cut(rest, "/")
		if kind != "assumed-role" || !ok || role == "" || session == "" {
			return principal{}, fmt.Errorf("ARN %q: not an assumed-role ARN (assumed-role/RoleName/session)", arn)
		}
		p.kind, p.name, p.path = "role", role, ""
		return p, nil
	}
	return principal{}, fmt.Errorf("ARN %q: service %q names no IAM principal", arn, service)
}

// iamARN returns the ARN of an IAM user or role without its path, the form
// protected globs are usually written in.
func iamARN(partition, account, kind, name string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":iam::" + account + ":" + kind + "/" + name
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
