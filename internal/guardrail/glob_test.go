package guardrail

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// slowGlob is the obviously correct matcher: the glob as a regexp. Both
// sides are widened byte by byte into runes, so that . matches one byte,
// as ? does.
func slowGlob(pattern, s string) bool {
	var re strings.Builder
	re.WriteString(`^(?s)`)
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*':
			re.WriteString(`.*`)
		case '?':
			re.WriteString(`.`)
		default:
			re.WriteString(regexp.QuoteMeta(string(rune(pattern[i]))))
		}
	}
	re.WriteString(`$`)
	wide := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		wide[i] = rune(s[i])
	}
	return regexp.MustCompile(re.String()).MatchString(string(wide))
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"arn:aws:iam::*:root", "arn:aws:iam::111122223333:root", true},
		{"arn:aws:iam::*:root", "arn:aws:iam::111122223333:user/root", false},
		{"arn:aws:iam::*:user/break-glass-*", "arn:aws:iam::111122223333:user/break-glass-1", true},
		{"arn:aws:iam::*:user/break-glass-*", "arn:aws:iam::111122223333:user/ops/break-glass-1", false},
		{"arn:aws:iam::*:user/*break-glass-*", "arn:aws:iam::111122223333:user/ops/break-glass-1", true},
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a", "a", true},
		{"a", "A", false},
		{"i-0??", "i-0ab", true},
		{"i-0??", "i-0abc", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "acb", false},
		{"*ab", "ab", true},
		{"ab*ab", "ab", false},
		{"**", "x", true},
		{"*?", "", false},
	}
	for _, tt := range tests {
		got := compileGlob(tt.pattern).match(tt.s)
		if got != tt.want {
			t.Errorf("glob %q match %q = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
		if slow := slowGlob(tt.pattern, tt.s); slow != tt.want {
			t.Errorf("slowGlob %q match %q = %v; want %v (the reference is wrong)", tt.pattern, tt.s, slow, tt.want)
		}
	}
}

func FuzzGlob(f *testing.F) {
	f.Add("arn:aws:iam::*:user/break-glass-*", "arn:aws:iam::111122223333:user/break-glass-1")
	f.Add("a*b?c*", "aXXbYcZ")
	f.Add("*?*?", "ab")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 256 {
			return
		}
		if got, want := compileGlob(pattern).match(s), slowGlob(pattern, s); got != want {
			t.Errorf("glob %q match %q = %v; the regexp says %v", pattern, s, got, want)
		}
	})
}

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		arn  string
		want principal
		err  string
	}{
		{arn: "arn:aws:iam::111122223333:user/alice", want: principal{partition: "aws", account: "111122223333", kind: "user", name: "alice", path: "/"}},
		{arn: "arn:aws:iam::111122223333:user/ops/team/alice", want: principal{partition: "aws", account: "111122223333", kind: "user", name: "alice", path: "/ops/team/"}},
		{arn: "arn:aws-us-gov:iam::111122223333:role/Admin", want: principal{partition: "aws-us-gov", account: "111122223333", kind: "role", name: "Admin", path: "/"}},
		{arn: "arn:aws:iam::111122223333:root", want: principal{partition: "aws", account: "111122223333", kind: "root"}},
		{arn: "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com", want: principal{partition: "aws", account: "111122223333", kind: "role", name: "Admin"}},
		{arn: "arn:aws:iam::111122223333:group/devs", want: principal{partition: "aws", account: "111122223333", kind: "group", name: "devs", path: "/"}},
		{arn: "arn:aws:s3:::bucket", err: `account "" is not 12 digits`},
		{arn: "arn:aws:sqs:us-east-1:111122223333:queue", err: `service "sqs" names no IAM principal`},
		{arn: "arn:aws:sts::111122223333:federated-user/bob", err: "not an assumed-role ARN"},
		{arn: "arn:aws:sts::111122223333:assumed-role/Admin", err: "not an assumed-role ARN"},
		{arn: "arn:aws:iam::111122223333:user/", err: "is not type/name"},
		{arn: "arn:aws:iam::111122223333:user/ops/", err: "is not type/name"},
		{arn: "arn:aws:iam::111122223333:alice", err: "is not type/name"},
		{arn: "alice", err: "is not an ARN"},
		{arn: "arn::iam::111122223333:user/alice", err: "is not an ARN"},
	}
	for _, tt := range tests {
		got, err := parsePrincipal(tt.arn)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parsePrincipal(%q) error = %v; want one containing %q", tt.arn, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parsePrincipal(%q): %v", tt.arn, err)
			continue
		}
		tt.want.arn = tt.arn
		if diff := cmp.Diff(got, tt.want, cmp.AllowUnexported(principal{})); diff != "" {
			t.Errorf("parsePrincipal(%q) (-got +want):\n%s", tt.arn, diff)
		}
	}
}

func FuzzParsePrincipal(f *testing.F) {
	f.Add("arn:aws:iam::111122223333:user/ops/alice")
	f.Add("arn:aws:sts::111122223333:assumed-role/Admin/s")
	f.Add("arn:aws:iam::111122223333:root")
	f.Fuzz(func(t *testing.T, arn string) {
		p, err := parsePrincipal(arn)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error")
			}
			return
		}
		// What parses names an account and, but for root, a name that
		// rebuilds into an ARN ending in it.
		if !isAccountID(p.account) || (p.kind != "root" && (p.name == "" || strings.Contains(p.name, "/"))) {
			t.Errorf("parsePrincipal(%q) = %+v", arn, p)
		}
		if p.kind != "root" && !strings.HasSuffix(iamARN(p.partition, p.account, p.kind, p.name), "/"+p.name) {
			t.Errorf("iamARN of %+v does not end in its name", p)
		}
	})
}

func TestWindowStart(t *testing.T) {
	tests := []struct {
		at     string
		window string
		want   string
	}{
		{"2026-11-22T10:17:03Z", "1h", "2026-11-22T10:00:00Z"},
		{"2026-11-22T10:00:00Z", "1h", "2026-11-22T10:00:00Z"},
		{"2026-11-22T10:17:03Z", "15m", "2026-11-22T10:15:00Z"},
		{"2026-11-22T10:17:03Z", "24h", "2026-11-22T00:00:00Z"},
		{"1969-12-31T23:30:00Z", "1h", "1969-12-31T23:00:00Z"},
	}
	for _, tt := range tests {
		at := mustTime(t, tt.at)
		w := mustDuration(t, tt.window)
		if got := windowStart(at, w).Format("2006-01-02T15:04:05Z07:00"); got != tt.want {
			t.Errorf("windowStart(%s, %s) = %s; want %s", tt.at, tt.window, got, tt.want)
		}
	}
}
