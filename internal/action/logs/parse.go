package logs

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// login is one successful login read from a log message.
type login struct {
	User   string
	IP     netip.Addr // unmapped: ::ffff:203.0.113.5 reads as 203.0.113.5
	Method string     // ssh-password, ssh-publickey, rdp, windows-network, ...
}

// parseLogin reads a log message as CloudWatch Logs holds it and reports
// the successful login it records, if any. It knows:
//
//   - OpenSSH's "Accepted <method> for <user> from <ip> port <n> ssh2" as
//     syslog writes it (sshd or, since OpenSSH 9.8, sshd-session, with an
//     RFC 3164 or ISO 8601 timestamp and a host name before it), or bare
//     (the message alone), or as a journald JSON record (MESSAGE with
//     SYSLOG_IDENTIFIER sshd);
//   - Windows Security event 4624 (an account was successfully logged on)
//     as the CloudWatch agent ships it: the event XML (event_format xml,
//     the default) or its text rendering (event_format text,
//     "[Security] [INFORMATION] [4624] [...] [host] [message]"), and as
//     JSON shippers write it (EventID with LogonType, IpAddress,
//     TargetUserName, flat or nested under EventData/event_data).
//
// Failed and invalid-user attempts, ANONYMOUS LOGON sessions (which RDP
// brute force produces by the hundred) and lines that merely mention an
// address are not logins. The "Accepted" must be sshd's own message, at
// the start of the line's message part, so that an attacker-chosen user
// name in a failed attempt cannot forge one.
func parseLogin(msg string) (login, bool) {
	s := strings.TrimSpace(msg)
	switch {
	case strings.HasPrefix(s, "<Event"), strings.HasPrefix(s, "<?xml"):
		return parseWindowsXML(s)
	case strings.HasPrefix(s, "{"):
		return parseJSON(s)
	case strings.HasPrefix(s, "["):
		return parseWindowsText(s)
	}
	return parseSSHD(s)
}

var (
	// sshdRE matches the syslog form: optional <PRI>, an RFC 3164
	// ("Nov 23 00:10:00") or ISO 8601 timestamp, a host, sshd's tag, then
	// its message.
	sshdRE = regexp.MustCompile(`^(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ sshd(?:-session)?(?:\[\d+\])?: (Accepted .*)$`)
	// acceptedRE matches sshd's message itself.
	acceptedRE = regexp.MustCompile(`^Accepted ([a-z][a-z0-9/-]*) for (\S+) from (\S+) port (\d{1,5})(?: ssh2)?(?::.*)?$`)
)

func parseSSHD(s string) (login, bool) {
	if m := sshdRE.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	return parseAccepted(s)
}

// parseAccepted reads sshd's "Accepted ..." message.
func parseAccepted(s string) (login, bool) {
	m := acceptedRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return login{}, false
	}
	ip, err := netip.ParseAddr(m[3])
	if err != nil {
		return login{}, false
	}
	return login{User: m[2], IP: ip.Unmap(), Method: "ssh-" + m[1]}, true
}

// windowsLogon is the part of a 4624 event that decides.
type windowsLogon struct {
	eventID, logonType, user, domain, sid, ip string
}

func (w windowsLogon) login() (login, bool) {
	if strings.TrimSpace(w.eventID) != "4624" {
		return login{}, false
	}
	if w.sid == "S-1-5-7" || strings.EqualFold(w.user, "ANONYMOUS LOGON") || w.user == "" || w.user == "-" {
		return login{}, false
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(w.ip))
	if err != nil {
		return login{}, false // "-": a local logon
	}
	user := w.user
	if d := strings.TrimSpace(w.domain); d != "" && d != "-" {
		user = d + `\` + user
	}
	return login{User: user, IP: ip.Unmap(), Method: logonMethod(strings.TrimSpace(w.logonType))}, true
}

// logonMethod names a Windows logon type.
func logonMethod(t string) string {
	switch t {
	case "10":
		return "rdp"
	case "3":
		return "windows-network"
	case "2":
		return "windows-interactive"
	case "7":
		return "windows-unlock"
	case "8":
		return "windows-network-cleartext"
	case "11":
		return "windows-cached-interactive"
	}
	if _, err := strconv.Atoi(t); err == nil {
		return "windows-logon-type-" + t
	}
	return "windows-logon"
}

type xmlEvent struct {
	System struct {
		EventID string `xml:"EventID"`
	} `xml:"System"`
	Data []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	} `xml:"EventData>Data"`
}

func parseWindowsXML(s string) (login, bool) {
	var ev xmlEvent
	if err := xml.Unmarshal([]byte(s), &ev); err != nil {
		return login{}, false
	}
	w := windowsLogon{eventID: ev.System.EventID}
	for _, d := range ev.Data {
		switch d.Name {
		case "TargetUserName":
			w.user = strings.TrimSpace(d.Value)
		case "TargetDomainName":
			w.domain = d.Value
		case "TargetUserSid":
			w.sid = strings.TrimSpace(d.Value)
		case "LogonType":
			w.logonType = d.Value
		case "IpAddress":
			w.ip = d.Value
		}
	}
	return w.login()
}

var (
	// winTextRE is the CloudWatch agent's text rendering:
	// [channel] [level] [event id] [provider] [computer] [message].
	winTextRE     = regexp.MustCompile(`(?s)^\[([^\]]*)\] \[([^\]]*)\] \[(\d+)\] \[([^\]]*)\] \[([^\]]*)\] \[(.*)\]$`)
	logonTypeRE   = regexp.MustCompile(`Logon Type:\s*(\d+)`)
	accountNameRE = regexp.MustCompile(`Account Name:[ \t]*([^\r\n\t]*?)[ \t]*(?:\r?\n|\t|\s{2,}|Account Domain:)`)
	domainRE      = regexp.MustCompile(`Account Domain:[ \t]*([^\r\n\t]*?)[ \t]*(?:\r?\n|\t|\s{2,}|Logon ID:)`)
	sidRE         = regexp.MustCompile(`Security ID:\s*(\S+)`)
	sourceAddrRE  = regexp.MustCompile(`Source Network Address:\s*(\S+)\s+Source Port:`)
)

// parseWindowsText reads the message of a text-rendered 4624. The account
// is the one under "New Logon:" (the first, under "Subject:", is the
// account that reported the logon); the address is the last "Source
// Network Address" followed by "Source Port", since the workstation name
// before it is the client's to choose.
func parseWindowsText(s string) (login, bool) {
	m := winTextRE.FindStringSubmatch(s)
	if m == nil {
		return login{}, false
	}
	w := windowsLogon{eventID: m[3]}
	text := m[6]
	if lt := logonTypeRE.FindStringSubmatch(text); lt != nil {
		w.logonType = lt[1]
	}
	i := strings.Index(text, "New Logon:")
	if i < 0 {
		return login{}, false
	}
	newLogon := text[i:]
	if j := strings.Index(newLogon, "Process Information:"); j >= 0 {
		newLogon = newLogon[:j]
	} else if j := strings.Index(newLogon, "Network Information:"); j >= 0 {
		newLogon = newLogon[:j]
	}
	if a := accountNameRE.FindStringSubmatch(newLogon + "\n"); a != nil {
		w.user = a[1]
	}
	if d := domainRE.FindStringSubmatch(newLogon + "\n"); d != nil {
		w.domain = d[1]
	}
	if sid := sidRE.FindStringSubmatch(newLogon); sid != nil {
		w.sid = sid[1]
	}
	if all := sourceAddrRE.FindAllStringSubmatch(text, -1); len(all) > 0 {
		w.ip = all[len(all)-1][1]
	}
	return w.login()
}

// parseJSON reads a JSON record: a journald record of sshd, or a Windows
// event as JSON shippers write it.
func parseJSON(s string) (login, bool) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return login{}, false
	}
	f := map[string]string{}
	flatten(v, f)
	if id := first(f, "eventid", "event_id"); id != "" {
		return windowsLogon{
			eventID:   id,
			logonType: first(f, "logontype", "logon_type"),
			user:      first(f, "targetusername", "target_user_name"),
			domain:    first(f, "targetdomainname", "target_domain_name"),
			sid:       first(f, "targetusersid", "target_user_sid"),
			ip:        first(f, "ipaddress", "ip_address"),
		}.login()
	}
	ident := first(f, "syslog_identifier", "_comm", "ident", "program")
	if ident == "sshd" || ident == "sshd-session" {
		return parseAccepted(first(f, "message"))
	}
	return login{}, false
}

// flatten records every scalar leaf of v under its lowercased key; the
// shallowest occurrence of a key wins.
func flatten(v any, out map[string]string) {
	type item struct {
		key string
		v   any
	}
	queue := []item{{"", v}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		switch x := it.v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				queue = append(queue, item{strings.ToLower(k), x[k]})
			}
		case []any:
			for _, c := range x {
				queue = append(queue, item{it.key, c})
			}
		case string, float64, bool:
			if _, seen := out[it.key]; !seen && it.key != "" {
				out[it.key] = fmt.Sprint(x)
			}
		}
	}
}

func first(f map[string]string, keys ...string) string {
	for _, k := range keys {
		if v, ok := f[k]; ok {
			return v
		}
	}
	return ""
}
