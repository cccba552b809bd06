package report

import (
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Redacted replaces a secret in a bundle.
const Redacted = ledger.Redacted

// minKnown is the shortest known secret searched for: shorter values
// would match ordinary words. Config validation asks for longer ones.
const minKnown = 4

// Redact returns a copy of b in which no secret survives, in any string
// of any field: the values of the known secrets (the configured webhook
// URLs, and their paths alone, passwords, tokens and keys), what a
// secret.String prints as,
// strings shaped like AWS secret access keys and session tokens, the
// password in a URL, token-like query parameters, the token part of
// webhook URLs (Slack, Discord, Teams, ...), and values after password=,
// token:, Authorization: Bearer and the like. b itself is not changed.
func (b Bundle) Redact(known ...secret.String) Bundle {
	r := newRedactor(known)
	v := r.copy(reflect.ValueOf(b))
	return v.Interface().(Bundle)
}

// RedactText applies Redact's rules to one string.
func RedactText(s string, known ...secret.String) string {
	return newRedactor(known).text(s)
}

type redactor struct {
	known []string // longest first, so a secret containing another goes whole
}

func newRedactor(known []secret.String) redactor {
	var r redactor
	for _, k := range known {
		v := k.Reveal()
		if len(v) >= minKnown {
			r.known = append(r.known, v)
			// A URL may appear with its query escaped or not, and its path
			// (which carries the token of Slack-style webhooks) alone.
			if e := url.QueryEscape(v); e != v {
				r.known = append(r.known, e)
			}
			if u, err := url.Parse(v); err == nil && u.Host != "" && len(u.RequestURI()) >= 8 {
				r.known = append(r.known, u.RequestURI())
			}
		}
	}
	sort.Slice(r.known, func(i, j int) bool { return len(r.known[i]) > len(r.known[j]) })
	return r
}

var timeType = reflect.TypeOf(time.Time{})

// copy returns a deep copy of v with every string redacted.
func (r redactor) copy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(r.text(v.String()))
		return out
	case reflect.Struct:
		if v.Type() == timeType {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if out.Field(i).CanSet() {
				out.Field(i).Set(r.copy(v.Field(i)))
			}
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(r.copy(v.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(r.copy(v.Index(i)))
		}
		return out
	}
	return v
}

var (
	// urlRE finds URLs in free text.
	urlRE = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s<>"'\x60]+`)
	// assignRE finds secret-named keys followed by a value: password=x,
	// "token": "x", api_key: x, Authorization: Bearer x.
	assignRE = regexp.MustCompile(`(?i)((?:password|passwd|pwd|secret|secret[_-]?access[_-]?key|session[_-]?token|security[_-]?token|access[_-]?token|refresh[_-]?token|auth[_-]?token|api[_-]?key|apikey|client[_-]?secret|private[_-]?key|signing[_-]?secret|hmac[_-]?secret|webhook[_-]?url|token|authorization)"?\s*[:=]\s*"?)((?:bearer|basic|token)\s+)?([^\s"',;&]+)`)
	// bearerRE finds bearer tokens on their own.
	bearerRE = regexp.MustCompile(`(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})`)
)

// secretParams are query parameters whose values are secrets.
var secretParams = map[string]bool{
	"token": true, "access_token": true, "api_key": true, "apikey": true, "key": true, "secret": true,
	"sig": true, "signature": true, "password": true, "code": true, "auth": true,
	"x-amz-signature": true, "x-amz-security-token": true, "x-amz-credential": true,
}

// webhookHosts are hosts whose URL paths carry the credential.
var webhookHosts = []string{"hooks.slack.com", "discord.com", "discordapp.com", "webhook.office.com", "outlook.office.com", "chat.googleapis.com", "api.telegram.org"}

func (r redactor) text(s string) string {
	if s == "" {
		return s
	}
	for _, k := range r.known {
		if strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, Redacted)
		}
	}
	s = strings.ReplaceAll(s, secret.Redacted, Redacted)
	// The regular expressions are the slow part; each runs only when
	// the text holds what it looks for.
	if strings.Contains(s, "://") {
		s = urlRE.ReplaceAllStringFunc(s, redactURL)
	}
	if strings.ContainsAny(s, ":=") {
		s = assignRE.ReplaceAllStringFunc(s, func(m string) string {
			p := assignRE.FindStringSubmatch(m)
			if p[3] == Redacted {
				return m
			}
			return p[1] + p[2] + Redacted
		})
	}
	if containsFold(s, "bearer") {
		s = bearerRE.ReplaceAllString(s, "${1}"+Redacted)
	}
	return ledger.RedactText(s)
}

// redactURL keeps a URL's scheme, host and harmless parts, and replaces
// its password, secret query values and, for webhook services, its path.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
			changed = true
		}
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range webhookHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			if u.Path != "" && u.Path != "/" {
				u.Path, u.RawPath = "/REDACTED", ""
				changed = true
			}
		}
	}
	if strings.Contains(strings.ToLower(u.Path), "/hooks/") || strings.Contains(strings.ToLower(u.Path), "/webhooks/") {
		u.Path, u.RawPath = "/REDACTED", ""
		changed = true
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = "REDACTED"
			changed = true
		} else {
			for k := range q {
				if secretParams[strings.ToLower(k)] && strings.Join(q[k], "") != "" {
					q[k] = []string{"REDACTED"}
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
	}
	if !changed {
		return raw
	}
	return strings.ReplaceAll(u.String(), "REDACTED", Redacted)
}

// containsFold reports whether s holds sub, ignoring ASCII case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
