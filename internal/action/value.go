package action

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Type is the type of a parameter or output. Each type has a Kind (how the
// value is held) and, for the string-held AWS types, a format the value must
// have.
type Type string

// The types actions may declare. Add a type here, with its kind and check,
// when an action needs one; the playbook compiler and docs follow.
const (
	String      Type = "string"
	Int         Type = "int"
	Bool        Type = "bool"
	Duration    Type = "duration"
	StringList  Type = "string_list"
	ARN         Type = "arn"           // arn:partition:service:region:account:resource
	AccessKeyID Type = "access_key_id" // AKIA… or ASIA…, 20 characters
	InstanceID  Type = "instance_id"   // i- and 8 or 17 hex digits
	IP          Type = "ip"            // an IPv4 or IPv6 address
	CIDR        Type = "cidr"          // an address prefix, 203.0.113.0/24
	AccountID   Type = "account_id"    // 12 digits
	Region      Type = "region"        // us-east-1
	BucketName  Type = "bucket_name"   // an S3 bucket name
	IAMName     Type = "iam_name"      // an IAM user, role or group name
)

// Kind is how a value is held.
type Kind int

// The kinds. KindNone is the zero Value: no value.
const (
	KindNone Kind = iota
	KindString
	KindInt
	KindBool
	KindDuration
	KindStringList
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindBool:
		return "bool"
	case KindDuration:
		return "duration"
	case KindStringList:
		return "string list"
	}
	return "none"
}

type typeInfo struct {
	kind  Kind
	check func(string) error // for string kinds; nil when any string will do
	doc   string
}

var (
	reAccessKey  = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)
	reInstanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reAccountID  = regexp.MustCompile(`^[0-9]{12}$`)
	reRegion     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	reBucket     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	reIAMName    = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)
)

func matches(re *regexp.Regexp, what string) func(string) error {
	return func(s string) error {
		if !re.MatchString(s) {
			return fmt.Errorf("%q is not %s", s, what)
		}
		return nil
	}
}

var types = map[Type]typeInfo{
	String:      {kind: KindString, doc: "any text"},
	Int:         {kind: KindInt, doc: "a whole number"},
	Bool:        {kind: KindBool, doc: "true or false"},
	Duration:    {kind: KindDuration, doc: "a Go duration, 90s, 15m, 1h30m"},
	StringList:  {kind: KindStringList, doc: "a list of text values"},
	ARN:         {kind: KindString, check: checkARN, doc: "an ARN, arn:aws:iam::123456789012:user/alice"},
	AccessKeyID: {kind: KindString, check: matches(reAccessKey, "an access key id (AKIA… or ASIA…, 20 characters)"), doc: "an access key id, AKIA… or ASIA…"},
	InstanceID:  {kind: KindString, check: matches(reInstanceID, "an instance id (i- and 8 or 17 hex digits)"), doc: "an EC2 instance id, i-0abc…"},
	IP:          {kind: KindString, check: checkIP, doc: "an IPv4 or IPv6 address"},
	CIDR:        {kind: KindString, check: checkCIDR, doc: "an address range, 203.0.113.0/24"},
	AccountID:   {kind: KindString, check: matches(reAccountID, "an account id (12 digits)"), doc: "a 12-digit AWS account id"},
	Region:      {kind: KindString, check: matches(reRegion, "a region name (us-east-1)"), doc: "an AWS region name, us-east-1"},
	BucketName:  {kind: KindString, check: matches(reBucket, "a bucket name (3–63 lowercase letters, digits, dots, hyphens)"), doc: "an S3 bucket name"},
	IAMName:     {kind: KindString, check: matches(reIAMName, "an IAM name (1–128 of A-Z a-z 0-9 +=,.@_-)"), doc: "an IAM user, role or group name"},
}

// Types lists every type, sorted.
func Types() []Type {
	out := make([]Type, 0, len(types))
	for t := range types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Known reports whether t is one of the declared types.
func (t Type) Known() bool { _, ok := types[t]; return ok }

// Kind is how values of t are held; KindNone for unknown types.
func (t Type) Kind() Kind { return types[t].kind }

// Doc describes the type's values in a few words.
func (t Type) Doc() string { return types[t].doc }

// Parse reads a literal written in a playbook ("15m", "true", "AKIA…").
// String lists are not written as one literal; use Check on a ListValue.
func (t Type) Parse(text string) (Value, error) {
	info, ok := types[t]
	if !ok {
		return Value{}, fmt.Errorf("unknown type %q", t)
	}
	var v Value
	switch info.kind {
	case KindString:
		v = StringValue(text)
	case KindInt:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not a whole number", text)
		}
		v = IntValue(n)
	case KindBool:
		b, err := strconv.ParseBool(text)
		if err != nil || (text != "true" && text != "false") {
			return Value{}, fmt.Errorf("%q is not true or false", text)
		}
		v = BoolValue(b)
	case KindDuration:
		d, err := time.ParseDuration(text)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not a duration (like 90s, 15m, 1h30m)", text)
		}
		v = DurationValue(d)
	case KindStringList:
		return Value{}, fmt.Errorf("a %s is written as a list, not as %q", t, text)
	}
	return v, t.Check(v)
}

// Check reports whether v is a valid value of type t.
func (t Type) Check(v Value) error {
	info, ok := types[t]
	if !ok {
		return fmt.Errorf("unknown type %q", t)
	}
	if v.kind != info.kind {
		return fmt.Errorf("got a %s, want a %s", v.kind, t)
	}
	switch {
	case info.kind == KindDuration && v.n < 0:
		return fmt.Errorf("duration %s is negative", time.Duration(v.n))
	case info.check != nil:
		return info.check(v.s)
	}
	return nil
}

func checkARN(s string) error {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] == "" || parts[5] == "" {
		return fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", s)
	}
	return nil
}

func checkIP(s string) error {
	if _, err := netip.ParseAddr(s); err != nil {
		return fmt.Errorf("%q is not an IP address", s)
	}
	return nil
}

func checkCIDR(s string) error {
	if _, err := netip.ParsePrefix(s); err != nil {
		return fmt.Errorf("%q is not a CIDR range (203.0.113.0/24)", s)
	}
	return nil
}

// Value is one typed parameter or output value. The zero Value is "no
// value".
type Value struct {
	kind Kind
	s    string
	n    int64 // ints, and durations in nanoseconds
	b    bool
	l    []string
}

// StringValue holds text; use it for every string-kind type.
func StringValue(s string) Value { return Value{kind: KindString, s: s} }

// IntValue holds a whole number.
func IntValue(n int64) Value { return Value{kind: KindInt, n: n} }

// BoolValue holds true or false.
func BoolValue(b bool) Value { return Value{kind: KindBool, b: b} }

// DurationValue holds a duration.
func DurationValue(d time.Duration) Value { return Value{kind: KindDuration, n: int64(d)} }

// ListValue holds a list of text values; it keeps its own copy.
func ListValue(l []string) Value {
	return Value{kind: KindStringList, l: append([]string{}, l...)}
}

// Kind says how the value is held; KindNone for the zero Value.
func (v Value) Kind() Kind { return v.kind }

// IsZero reports whether v holds no value.
func (v Value) IsZero() bool { return v.kind == KindNone }

// Str returns the text of a string-kind value, "" otherwise.
func (v Value) Str() string { return v.s }

// Int returns a whole number, 0 for other kinds.
func (v Value) Int() int64 {
	if v.kind != KindInt {
		return 0
	}
	return v.n
}

// Bool returns a bool, false for other kinds.
func (v Value) Bool() bool { return v.b }

// Duration returns a duration, 0 for other kinds.
func (v Value) Duration() time.Duration {
	if v.kind != KindDuration {
		return 0
	}
	return time.Duration(v.n)
}

// List returns a copy of a string list, nil for other kinds.
func (v Value) List() []string { return slices.Clone(v.l) }

// Native returns the value as a plain Go value: string, int64, bool,
// time.Duration or []string; nil for the zero Value.
func (v Value) Native() any {
	switch v.kind {
	case KindString:
		return v.s
	case KindInt:
		return v.n
	case KindBool:
		return v.b
	case KindDuration:
		return time.Duration(v.n)
	case KindStringList:
		return slices.Clone(v.l)
	}
	return nil
}

// Equal reports whether two values are the same kind and value.
func (v Value) Equal(o Value) bool {
	return v.kind == o.kind && v.s == o.s && v.n == o.n && v.b == o.b && slices.Equal(v.l, o.l)
}

// String prints the value as a playbook would write it, strings quoted.
func (v Value) String() string {
	switch v.kind {
	case KindString:
		return strconv.Quote(v.s)
	case KindInt:
		return strconv.FormatInt(v.n, 10)
	case KindBool:
		return strconv.FormatBool(v.b)
	case KindDuration:
		return time.Duration(v.n).String()
	case KindStringList:
		q := make([]string, len(v.l))
		for i, s := range v.l {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return "<none>"
}

// Values are named values: a call's parameters or an action's outputs.
type Values map[string]Value

// Str returns the text of a string-kind value, "" when absent.
func (vs Values) Str(name string) string { return vs[name].Str() }

// Int returns a whole number, 0 when absent.
func (vs Values) Int(name string) int64 { return vs[name].Int() }

// Bool returns a bool, false when absent.
func (vs Values) Bool(name string) bool { return vs[name].Bool() }

// Duration returns a duration, 0 when absent.
func (vs Values) Duration(name string) time.Duration { return vs[name].Duration() }

// List returns a string list, nil when absent.
func (vs Values) List(name string) []string { return vs[name].List() }

// String prints the values sorted by name, name=value, space-separated.
func (vs Values) String() string {
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n + "=" + vs[n].String())
	}
	return b.String()
}
