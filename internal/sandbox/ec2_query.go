package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ec2Errorf returns an EC2 API error with status 400; the core encodes it
// as <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
func ec2Errorf(code, format string, args ...any) *APIError {
	return Errorf(code, format, args...)
}

// ec2DryRun is the answer to a DryRun request that would have succeeded.
func ec2DryRun() *APIError {
	return ErrorStatus(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
}

// ec2Params reads an ec2Query form: scalars by name, lists as Name.1, Name.2,
// structures as Name.1.Member.
type ec2Params url.Values

func (p ec2Params) str(name string) string { return url.Values(p).Get(name) }

func (p ec2Params) required(name string) (string, error) {
	v := p.str(name)
	if v == "" {
		return "", ec2Errorf("MissingParameter", "The request must contain the parameter %s", name)
	}
	return v, nil
}

// indexes returns the member prefixes of a list, "Name.1", "Name.2", … in
// numeric order, whatever the numbering in the request.
func (p ec2Params) indexes(name string) []string {
	seen := map[int]bool{}
	prefix := name + "."
	for k := range p {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 {
			continue
		}
		seen[n] = true
	}
	nums := make([]int, 0, len(seen))
	for n := range seen {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = prefix + strconv.Itoa(n)
	}
	return out
}

// list returns the values of a flat list, Name.1=a&Name.2=b.
func (p ec2Params) list(name string) []string {
	var out []string
	for _, ix := range p.indexes(name) {
		if v := p.str(ix); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (p ec2Params) boolean(name string) (bool, error) {
	v := p.str(name)
	switch strings.ToLower(v) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected a boolean.", v, name)
}

// integer returns the value of name and whether it was given.
func (p ec2Params) integer(name string) (int64, bool, error) {
	v := p.str(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected an integer.", v, name)
	}
	return n, true, nil
}

func (p ec2Params) dryRun() (bool, error) { return p.boolean("DryRun") }

// ec2Filter is one Filter.N of a Describe call.
type ec2Filter struct {
	Name   string
	Values []string
}

func (p ec2Params) filters() []ec2Filter {
	var out []ec2Filter
	for _, ix := range p.indexes("Filter") {
		out = append(out, ec2Filter{Name: p.str(ix + ".Name"), Values: p.list(ix + ".Value")})
	}
	return out
}

// ec2Tag is one key and value.
type ec2Tag struct{ Key, Value string }

func (p ec2Params) tagList(name string) []ec2Tag {
	var out []ec2Tag
	for _, ix := range p.indexes(name) {
		out = append(out, ec2Tag{Key: p.str(ix + ".Key"), Value: p.str(ix + ".Value")})
	}
	return out
}

// tagSpecs returns the tags of TagSpecification.N for one resource type, and
// an error naming any resource type this call cannot tag.
func (p ec2Params) tagSpecs(allowed ...string) (map[string][]ec2Tag, error) {
	out := map[string][]ec2Tag{}
	for _, ix := range p.indexes("TagSpecification") {
		rt := p.str(ix + ".ResourceType")
		ok := false
		for _, a := range allowed {
			ok = ok || a == rt
		}
		if !ok {
			return nil, ec2Errorf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", rt)
		}
		tags := p.tagList(ix + ".Tag")
		if err := ec2CheckTags(tags); err != nil {
			return nil, err
		}
		out[rt] = append(out[rt], tags...)
	}
	return out, nil
}

func ec2CheckTags(tags []ec2Tag) error {
	for _, t := range tags {
		if t.Key == "" {
			return ec2Errorf("InvalidParameterValue", "Tag key must not be empty")
		}
		if len(t.Key) > 128 || len(t.Value) > 256 {
			return ec2Errorf("InvalidParameterValue", "Tag key %q or its value exceeds the maximum length", t.Key)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return ec2Errorf("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	return nil
}

var ec2IDPattern = regexp.MustCompile(`^[a-z]+(-[a-z]+)?-[0-9a-f]{8}([0-9a-f]{9})?$`)

// ec2CheckID rejects an id that cannot be one of prefix's resources, with
// the Malformed code EC2 uses for that resource.
func ec2CheckID(id, prefix, malformed string) error {
	if !strings.HasPrefix(id, prefix+"-") || !ec2IDPattern.MatchString(id) {
		return ec2Errorf(malformed, "Invalid id: \"%s\"", id)
	}
	return nil
}

// ec2Glob reports whether s matches pattern, where * matches any run of
// characters and ? one character, as EC2 filter values do.
func ec2Glob(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	p, t := []rune(pattern), []rune(s)
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// ec2Match applies filters to one resource. fields returns the values a
// filter name has on the resource and whether the name is known.
func ec2Match(filters []ec2Filter, tags map[string]string, fields func(name string) ([]string, bool)) (bool, error) {
	for _, f := range filters {
		var have []string
		switch {
		case strings.HasPrefix(f.Name, "tag:"):
			if v, ok := tags[strings.TrimPrefix(f.Name, "tag:")]; ok {
				have = []string{v}
			}
		case f.Name == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		case f.Name == "tag-value":
			for _, v := range tags {
				have = append(have, v)
			}
		default:
			vals, ok := fields(f.Name)
			if !ok {
				return false, ec2Errorf("InvalidParameterValue", "The filter '%s' is invalid", f.Name)
			}
			have = vals
		}
		if !ec2AnyMatch(f.Values, have) {
			return false, nil
		}
	}
	return true, nil
}

func ec2AnyMatch(patterns, have []string) bool {
	for _, p := range patterns {
		for _, h := range have {
			if ec2Glob(p, h) {
				return true
			}
		}
	}
	return false
}

// ec2Page cuts one page out of n sorted items: MaxResults and NextToken (an
// offset) as Describe calls take them. It returns the bounds and the next
// token, empty on the last page.
func ec2Page(p ec2Params, n int, minMax, maxMax int64) (lo, hi int, next string, err error) {
	lo = 0
	if tok := p.str("NextToken"); tok != "" {
		off, perr := strconv.Atoi(strings.TrimPrefix(tok, "sandbox-"))
		if perr != nil || off < 0 || off > n {
			return 0, 0, "", ec2Errorf("InvalidParameterValue", "Invalid NextToken value (%s)", tok)
		}
		lo = off
	}
	hi = n
	max, given, err := p.integer("MaxResults")
	if err != nil {
		return 0, 0, "", err
	}
	if given {
		if max < minMax || max > maxMax {
			return 0, 0, "", ec2Errorf("InvalidParameterValue", "Value (%d) for parameter maxResults is invalid. Expecting a value between %d and %d.", max, minMax, maxMax)
		}
		if lo+int(max) < n {
			hi = lo + int(max)
			next = "sandbox-" + strconv.Itoa(hi)
		}
	}
	return lo, hi, next, nil
}
