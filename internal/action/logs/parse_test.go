package logs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseLogin(t *testing.T) {
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name, msg string
		want      string // "user ip method", "" when no login
	}{
		{"sshd password", "Nov 23 00:10:00 ip-10-0-1-10 sshd[901]: Accepted password for root from 203.0.113.66 port 50444 ssh2", "root 203.0.113.66 ssh-password"},
		{"sshd publickey iso time ipv6", "2026-11-23T00:10:00.123456+00:00 web-1 sshd[901]: Accepted publickey for ec2-user from 2001:db8::66 port 50444 ssh2: ED25519 SHA256:Zk1vXf0wA2c3", "ec2-user 2001:db8::66 ssh-publickey"},
		{"sshd-session keyboard-interactive", "Nov  3 00:10:00 host sshd-session[901]: Accepted keyboard-interactive/pam for alice from 203.0.113.66 port 1 ssh2", "alice 203.0.113.66 ssh-keyboard-interactive/pam"},
		{"syslog priority", "<38>Nov 23 00:10:00 host sshd[1]: Accepted password for bob from 203.0.113.66 port 2 ssh2", "bob 203.0.113.66 ssh-password"},
		{"bare message, mapped address", "Accepted password for root from ::ffff:203.0.113.66 port 22 ssh2", "root 203.0.113.66 ssh-password"},
		{"journald json", `{"MESSAGE":"Accepted publickey for deploy from 203.0.113.66 port 4000 ssh2: RSA SHA256:x","SYSLOG_IDENTIFIER":"sshd","_PID":"77"}`, "deploy 203.0.113.66 ssh-publickey"},
		{"failed password", "Nov 23 00:00:00 h sshd[812]: Failed password for root from 203.0.113.66 port 50122 ssh2", ""},
		{"failed invalid user", "Nov 23 00:00:00 h sshd[812]: Failed password for invalid user admin from 203.0.113.66 port 50122 ssh2", ""},
		{"invalid user", "Nov 23 00:00:00 h sshd[812]: Invalid user admin from 203.0.113.66 port 4242", ""},
		{"forged accepted in user name", "Nov 23 00:00:01 h sshd[812]: Failed password for invalid user sshd[1]: Accepted password for root from 203.0.113.66 port 1 ssh2 from 203.0.113.66 port 50122 ssh2", ""},
		{"preauth close", "Nov 23 00:00:02 h sshd[813]: Connection closed by authenticating user root 203.0.113.66 port 22 [preauth]", ""},
		{"disconnect after session", "Nov 23 00:20:00 h sshd[901]: Disconnected from user root 203.0.113.66 port 50444", ""},
		{"other program", "Nov 23 00:20:00 h sudo[1]: root : TTY=pts/0 ; COMMAND=/bin/echo Accepted password for root from 203.0.113.66 port 1 ssh2", ""},
		{"journald other program", `{"MESSAGE":"Accepted password for root from 203.0.113.66 port 1 ssh2","SYSLOG_IDENTIFIER":"logger"}`, ""},
		{"windows xml rdp", file("windows-4624-rdp.xml"), `EC2AMAZ-7Q1K2B3\Administrator 203.0.113.66 rdp`},
		{"windows xml network ipv4-mapped", file("windows-4624-network-ipv6.xml"), `ACME\svc-backup 203.0.113.66 windows-network`},
		{"windows xml anonymous", file("windows-4624-anonymous.xml"), ""},
		{"windows xml failed", file("windows-4625-failed.xml"), ""},
		{"windows xml local", file("windows-4624-local.xml"), ""},
		{"windows text rdp", file("windows-4624-rdp.txt"), `EC2AMAZ-7Q1K2B3\Administrator 203.0.113.66 rdp`},
		{"windows text forged workstation", file("windows-4624-forged-workstation.txt"), `EC2AMAZ-7Q1K2B3\Administrator 198.51.100.7 rdp`},
		{"windows text flattened", file("windows-4624-flattened.txt"), `EC2AMAZ-7Q1K2B3\Administrator 203.0.113.66 rdp`},
		{"windows text failed", file("windows-4625-failed.txt"), ""},
		{"nxlog json", `{"EventTime":"2026-11-23 00:10:00","Hostname":"WIN","EventID":4624,"LogonType":"10","TargetUserName":"admin","TargetDomainName":"WIN","IpAddress":"203.0.113.66"}`, `WIN\admin 203.0.113.66 rdp`},
		{"winlogbeat json", `{"winlog":{"event_id":"4624","event_data":{"LogonType":"3","TargetUserName":"bob","IpAddress":"203.0.113.66"}}}`, "bob 203.0.113.66 windows-network"},
		{"json failed logon", `{"EventID":4625,"LogonType":"10","TargetUserName":"admin","IpAddress":"203.0.113.66"}`, ""},
		{"json anonymous", `{"EventID":4624,"LogonType":"3","TargetUserName":"ANONYMOUS LOGON","TargetUserSid":"S-1-5-7","IpAddress":"203.0.113.66"}`, ""},
		{"broken json", `{"EventID":4624,`, ""},
		{"broken xml", `<Event><System><EventID>4624`, ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, ok := parseLogin(tc.msg)
			got := ""
			if ok {
				got = l.User + " " + l.IP.String() + " " + l.Method
			}
			if got != tc.want {
				t.Errorf("parseLogin = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzParseLogin checks that no message panics the parser and that a login
// always has an address.
func FuzzParseLogin(f *testing.F) {
	for _, s := range []string{
		"Nov 23 00:10:00 h sshd[1]: Accepted password for root from 203.0.113.66 port 1 ssh2",
		`{"EventID":4624,"LogonType":"10","TargetUserName":"a","IpAddress":"203.0.113.66"}`,
		"<Event><System><EventID>4624</EventID></System><EventData><Data Name='IpAddress'>1.2.3.4</Data><Data Name='TargetUserName'>a</Data></EventData></Event>",
		"[Security] [INFORMATION] [4624] [p] [h] [New Logon: Account Name: a Source Network Address: 1.2.3.4 Source Port: 0]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		l, ok := parseLogin(msg)
		if ok && (!l.IP.IsValid() || l.User == "" || l.Method == "") {
			t.Errorf("parseLogin(%q) = %+v, a login without address, user or method", msg, l)
		}
	})
}
