package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Redacted replaces every secret the ledger would otherwise store.
const Redacted = "<redacted>"

// secretMarker is what a secret.String marshals as; a field holding one
// was typed as a secret.
const secretMarker = secret.Redacted

// secretFields are JSON field names, lower-cased without _ and -, whose
// values are always secrets.
var secretFields = map[string]bool{
	"secretaccesskey":    true,
	"awssecretaccesskey": true,
	"sessiontoken":       true,
	"awssessiontoken":    true,
	"securitytoken":      true,
	"accesstoken":        true,
	"refreshtoken":       true,
	"authtoken":          true,
	"bearertoken":        true,
	"password":           true,
	"passwd":             true,
	"privatekey":         true,
	"secret":             true,
	"clientsecret":       true,
	"apikey":             true,
	"authorization":      true,
	"webhookurl":         true,
}

func isSecretField(name string) bool {
	n := strings.ToLower(name)
	n = strings.NewReplacer("_", "", "-", "").Replace(n)
	return secretFields[n]
}

// RedactJSON returns doc with secrets replaced by Redacted: the values of
// fields named like secrets (secret_access_key, SessionToken, password,
// ...), values a secret type marshalled as "<secret>", and any string
// holding something shaped like an AWS secret access key or session token
// (see RedactText). doc comes back byte for byte when it holds no secret;
// otherwise it is re-encoded with sorted keys. Empty input is returned as
// is; input that is not JSON is an error.
func RedactJSON(doc []byte) ([]byte, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return doc, nil
	}
	if !json.Valid(doc) {
		var v any
		err := json.Unmarshal(doc, &v)
		if err == nil {
			err = fmt.Errorf("more than one value")
		}
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	v, changed := redactValue(v)
	if !changed {
		return doc, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("re-encode redacted JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func redactValue(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		changed := false
		for k, x := range v {
			if isSecretField(k) && !isEmpty(x) {
				if x != Redacted {
					v[k] = Redacted
					changed = true
				}
				continue
			}
			if nx, c := redactValue(x); c {
				v[k] = nx
				changed = true
			}
		}
		return v, changed
	case []any:
		changed := false
		for i, x := range v {
			if nx, c := redactValue(x); c {
				v[i] = nx
				changed = true
			}
		}
		return v, changed
	case string:
		if v == secretMarker {
			return Redacted, true
		}
		r := RedactText(v)
		return r, r != v
	}
	return v, false
}

func isEmpty(v any) bool {
	return v == nil || v == ""
}

// RedactText replaces, in free text, every run of base64 characters (A-Z,
// a-z, 0-9, + and /; = ends a run, as in key=value) shaped
// like an AWS secret access key (40 characters mixing upper case, lower
// case and digits or / +) or a session token (100 characters or more).
func RedactText(s string) string {
	var b strings.Builder
	changed := false
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		run := s[start:end]
		if looksSecret(run) {
			b.WriteString(Redacted)
			changed = true
		} else {
			b.WriteString(run)
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		if isBase64Char(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteByte(s[i])
	}
	flush(len(s))
	if !changed {
		return s
	}
	return b.String()
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

func looksSecret(core string) bool {
	if len(core) >= 100 {
		return true
	}
	if len(core) != 40 {
		return false
	}
	var upper, lower, other bool
	for i := 0; i < len(core); i++ {
		c := core[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		default:
			other = true
		}
	}
	return upper && lower && other
}
