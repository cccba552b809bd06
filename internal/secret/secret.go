package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a String prints as.
const Redacted = "<secret>"

// String is a secret string. The zero value is the empty secret, which
// prints as "" so that an unset secret is visible as unset.
type String struct {
	value string
}

// New wraps a value.
func New(value string) String { return String{value: value} }

// Reveal returns the secret. Call it only where the value is used: to sign,
// to authenticate, to connect.
func (s String) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s.value == "" }

func (s String) redacted() string {
	if s.value == "" {
		return ""
	}
	return Redacted
}

// String implements fmt.Stringer.
func (s String) String() string { return s.redacted() }

// GoString implements fmt.GoStringer, for %#v.
func (s String) GoString() string { return fmt.Sprintf("secret.String(%q)", s.redacted()) }

// Format implements fmt.Formatter, so that no verb or flag (%v, %+v, %s,
// %q, %x, %d) reaches the value.
func (s String) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.redacted())
	default:
		if verb == 'v' && f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.redacted())
	}
}

// MarshalJSON implements json.Marshaler.
func (s String) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.redacted())), nil }

// MarshalText implements encoding.TextMarshaler.
func (s String) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// MarshalYAML implements yaml.Marshaler.
func (s String) MarshalYAML() (any, error) { return s.redacted(), nil }

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// UnmarshalText implements encoding.TextUnmarshaler, so a String can be
// read from JSON, YAML or flags.
func (s *String) UnmarshalText(b []byte) error {
	s.value = string(b)
	return nil
}
