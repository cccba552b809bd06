package sandbox

import (
	"regexp"
	"strings"
	"unicode"
)

// compileFilterPattern compiles a CloudWatch Logs filter pattern for
// unstructured log events:
//
//   - the empty pattern matches every event;
//   - terms separated by spaces must all appear (AND): ERROR Exception;
//   - a term that holds anything but letters, digits and underscores must
//     be quoted, and a quoted term is an exact phrase: "Accepted password";
//   - terms prefixed with ? form one OR group: ?ERROR ?WARN matches events
//     with either;
//   - terms prefixed with - must not appear: ERROR -Exception;
//   - a term between % signs is a regular expression: %sshd\[[0-9]+\]%
//     (parentheses are refused, as the real service refuses them).
//
// Matching is case-sensitive, and a term matches anywhere in the message
// (a substring, not a whole word). A pattern in braces is a JSON pattern
// (logs_filter_json.go), one in square brackets a space-delimited pattern
// (logs_filter_delimited.go).
func compileFilterPattern(pattern string) (func(string) bool, error) {
	p := strings.TrimSpace(pattern)
	if p == "" {
		return func(string) bool { return true }, nil
	}
	switch p[0] {
	case '{':
		if !strings.HasSuffix(p, "}") {
			return nil, logsInvalid("Invalid JSON filter pattern %q: missing closing }.", pattern)
		}
		return compileJSONPattern(pattern, p[1:len(p)-1])
	case '[':
		if !strings.HasSuffix(p, "]") {
			return nil, logsInvalid("Invalid space-delimited filter pattern %q: missing closing ].", pattern)
		}
		return compileDelimitedPattern(pattern, p[1:len(p)-1])
	}
	var all, any, none []func(string) bool
	for i := 0; i < len(p); {
		if p[i] == ' ' || p[i] == '\t' {
			i++
			continue
		}
		var op byte
		if p[i] == '?' || p[i] == '-' {
			op = p[i]
			i++
		}
		if i == len(p) || p[i] == ' ' || p[i] == '\t' {
			return nil, logsInvalid("Invalid filter pattern %q: %q must be followed by a term.", pattern, string(op))
		}
		var m func(string) bool
		switch p[i] {
		case '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for ; j < len(p); j++ {
				if p[j] == '\\' && j+1 < len(p) {
					j++
					b.WriteByte(p[j])
					continue
				}
				if p[j] == '"' {
					closed = true
					break
				}
				b.WriteByte(p[j])
			}
			if !closed {
				return nil, logsInvalid("Invalid filter pattern %q: unterminated quoted term.", pattern)
			}
			phrase := b.String()
			m = func(s string) bool { return strings.Contains(s, phrase) }
			i = j + 1
		case '%':
			j := strings.IndexByte(p[i+1:], '%')
			if j < 0 {
				return nil, logsInvalid("Invalid filter pattern %q: unterminated regular expression.", pattern)
			}
			expr := p[i+1 : i+1+j]
			if strings.ContainsAny(expr, "()") {
				return nil, logsInvalid("Invalid regular expression %q: the ( and ) operators are not supported.", expr)
			}
			re, err := regexp.Compile(expr)
			if err != nil || expr == "" {
				return nil, logsInvalid("Invalid regular expression %q.", expr)
			}
			m = re.MatchString
			i += j + 2
		default:
			j := i
			for j < len(p) && p[j] != ' ' && p[j] != '\t' {
				j++
			}
			term := p[i:j]
			for _, r := range term {
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					return nil, logsInvalid("Invalid character(s) in term '%s'", term)
				}
			}
			m = func(s string) bool { return strings.Contains(s, term) }
			i = j
		}
		if i < len(p) && p[i] != ' ' && p[i] != '\t' {
			return nil, logsInvalid("Invalid filter pattern %q: terms must be separated by spaces.", pattern)
		}
		switch op {
		case '?':
			any = append(any, m)
		case '-':
			none = append(none, m)
		default:
			all = append(all, m)
		}
	}
	return func(s string) bool {
		for _, m := range all {
			if !m(s) {
				return false
			}
		}
		for _, m := range none {
			if m(s) {
				return false
			}
		}
		if len(any) == 0 {
			return true
		}
		for _, m := range any {
			if m(s) {
				return true
			}
		}
		return false
	}, nil
}
