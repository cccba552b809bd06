package sandbox

import (
	"encoding/json"
	"fmt"
	"net"
	"path"
	"strings"
	"time"
)

// The sandbox authorises by explicit denies only: every call is allowed
// unless a Deny statement in one of the caller's identity policies (user
// inline, user attached, group, or for a role session the role's inline and
// attached policies) matches the action and all of its conditions hold.
// Resources are not matched (a Deny on any resource denies the action).
// Supported condition operators: DateLessThan, DateGreaterThan,
// Bool/BoolIfExists, IpAddress/NotIpAddress, StringEquals/StringLike, each
// with IfExists. Keys: aws:TokenIssueTime, aws:MultiFactorAuthPresent,
// aws:SourceIp, aws:CurrentTime, aws:PrincipalArn, aws:username. A statement
// with any other condition is ignored.

type policyDoc struct {
	Version   string
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string
	Effect    string
	Action    []string
	NotAction []string
	Principal map[string][]string // "*" is {"*": ["*"]}
	Condition map[string]map[string][]string
}

// stringOrList decodes a JSON string or array of strings.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// parsePolicy parses an IAM policy document.
func parsePolicy(doc string) (policyDoc, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return policyDoc{}, fmt.Errorf("the policy is not valid JSON: %v", err)
	}
	var stmts []json.RawMessage
	if len(raw.Statement) == 0 {
		return policyDoc{}, fmt.Errorf("the policy has no Statement")
	}
	if raw.Statement[0] == '{' {
		stmts = []json.RawMessage{raw.Statement}
	} else if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		return policyDoc{}, fmt.Errorf("Statement must be an object or a list")
	}
	p := policyDoc{Version: raw.Version}
	for i, s := range stmts {
		var rs struct {
			Sid       string                             `json:"Sid"`
			Effect    string                             `json:"Effect"`
			Action    stringOrList                       `json:"Action"`
			NotAction stringOrList                       `json:"NotAction"`
			Principal json.RawMessage                    `json:"Principal"`
			Condition map[string]map[string]stringOrList `json:"Condition"`
		}
		if err := json.Unmarshal(s, &rs); err != nil {
			return policyDoc{}, fmt.Errorf("Statement[%d]: %v", i, err)
		}
		if rs.Effect != "Allow" && rs.Effect != "Deny" {
			return policyDoc{}, fmt.Errorf("Statement[%d].Effect must be Allow or Deny", i)
		}
		st := policyStatement{Sid: rs.Sid, Effect: rs.Effect, Action: rs.Action, NotAction: rs.NotAction}
		if len(rs.Principal) > 0 {
			st.Principal = map[string][]string{}
			var star string
			if json.Unmarshal(rs.Principal, &star) == nil {
				st.Principal["*"] = []string{star}
			} else {
				var m map[string]stringOrList
				if err := json.Unmarshal(rs.Principal, &m); err != nil {
					return policyDoc{}, fmt.Errorf("Statement[%d].Principal: %v", i, err)
				}
				for k, v := range m {
					st.Principal[k] = v
				}
			}
		}
		if rs.Condition != nil {
			st.Condition = map[string]map[string][]string{}
			for op, kv := range rs.Condition {
				st.Condition[op] = map[string][]string{}
				for k, v := range kv {
					st.Condition[op][k] = v
				}
			}
		}
		p.Statement = append(p.Statement, st)
	}
	return p, nil
}

// condContext holds the request's condition keys.
type condContext struct {
	now          time.Time
	tokenIssued  time.Time // zero when the caller uses long-term keys
	mfa          *bool     // nil when absent
	sourceIP     string
	principalARN string
	userName     string
}

// denies reports whether a Deny statement of p applies to action.
func (p policyDoc) denies(action string, c condContext) bool {
	for _, s := range p.Statement {
		if s.Effect != "Deny" {
			continue
		}
		if len(s.Action) > 0 && !matchAny(s.Action, action) {
			continue
		}
		if len(s.NotAction) > 0 && matchAny(s.NotAction, action) {
			continue
		}
		if len(s.Action) == 0 && len(s.NotAction) == 0 {
			continue
		}
		if conditionsHold(s.Condition, c) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

// conditionsHold evaluates a Condition block; unsupported operators or keys
// make it false so that the statement is ignored.
func conditionsHold(cond map[string]map[string][]string, c condContext) bool {
	for op, kv := range cond {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		for key, want := range kv {
			got, present, known := c.value(key)
			if !known {
				return false
			}
			if !present {
				if ifExists {
					continue
				}
				return false
			}
			if !evalCondition(base, got, want) {
				return false
			}
		}
	}
	return true
}

func (c condContext) value(key string) (val string, present, known bool) {
	switch strings.ToLower(key) {
	case "aws:tokenissuetime":
		if c.tokenIssued.IsZero() {
			return "", false, true
		}
		return c.tokenIssued.Format(time.RFC3339), true, true
	case "aws:multifactorauthpresent":
		if c.mfa == nil {
			return "", false, true
		}
		return fmt.Sprint(*c.mfa), true, true
	case "aws:sourceip":
		return c.sourceIP, true, true
	case "aws:currenttime":
		return c.now.Format(time.RFC3339), true, true
	case "aws:principalarn":
		return c.principalARN, true, true
	case "aws:username":
		return c.userName, c.userName != "", true
	}
	return "", false, false
}

func evalCondition(op, got string, want []string) bool {
	any := func(f func(w string) bool) bool {
		for _, w := range want {
			if f(w) {
				return true
			}
		}
		return false
	}
	switch op {
	case "DateLessThan", "DateGreaterThan", "DateLessThanEquals", "DateGreaterThanEquals":
		g, err := time.Parse(time.RFC3339, got)
		if err != nil {
			return false
		}
		return any(func(w string) bool {
			t, err := time.Parse(time.RFC3339, w)
			if err != nil {
				return false
			}
			switch op {
			case "DateLessThan":
				return g.Before(t)
			case "DateGreaterThan":
				return g.After(t)
			case "DateLessThanEquals":
				return !g.After(t)
			}
			return !g.Before(t)
		})
	case "Bool":
		return any(func(w string) bool { return strings.EqualFold(w, got) })
	case "StringEquals":
		return any(func(w string) bool { return w == got })
	case "StringNotEquals":
		return !any(func(w string) bool { return w == got })
	case "StringLike":
		return any(func(w string) bool { ok, _ := path.Match(w, got); return ok })
	case "IpAddress", "NotIpAddress":
		ip := net.ParseIP(got)
		in := any(func(w string) bool {
			if !strings.Contains(w, "/") {
				return net.ParseIP(w).Equal(ip)
			}
			_, n, err := net.ParseCIDR(w)
			return err == nil && ip != nil && n.Contains(ip)
		})
		if op == "NotIpAddress" {
			return !in
		}
		return in
	}
	return false
}

// trustAllows reports whether a role trust policy lets principal (an IAM
// user or assumed-role ARN in account) call sts:AssumeRole.
func trustAllows(p policyDoc, callerARN, callerAccount, roleARN string) bool {
	allowed := false
	for _, s := range p.Statement {
		if len(s.Action) > 0 && !matchAny(s.Action, "sts:AssumeRole") {
			continue
		}
		if !principalMatches(s.Principal, callerARN, callerAccount, roleARN) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func principalMatches(pr map[string][]string, callerARN, callerAccount, sessionRoleARN string) bool {
	if v, ok := pr["*"]; ok && len(v) > 0 && v[0] == "*" {
		return true
	}
	for _, p := range pr["AWS"] {
		switch {
		case p == "*", p == callerARN, p == callerAccount, p == "arn:aws:iam::"+callerAccount+":root":
			return true
		case sessionRoleARN != "" && p == sessionRoleARN:
			return true
		}
	}
	return false
}
