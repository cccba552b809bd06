package pattern_test

import (
	"fmt"

	"github.com/firebreak-sec/firebreak/internal/pattern"
)

func ExampleMatcher() {
	m := pattern.NewMatcher()
	for name, p := range map[string]string{
		"root-login":   `{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`,
		"ssh-brute":    `{"source":["aws.guardduty"],"detail":{"type":[{"prefix":"UnauthorizedAccess:EC2/SSHBruteForce"}],"severity":[{"numeric":[">=",5]}]}}`,
		"not-internal": `{"detail":{"sourceIPAddress":[{"anything-but":{"prefix":"10."}}]}}`,
	} {
		if err := m.Add(name, []byte(p)); err != nil {
			fmt.Println(err)
			return
		}
	}
	event := []byte(`{"source":"aws.signin","detail-type":"AWS Console Sign In via CloudTrail",
		"detail":{"userIdentity":{"type":"Root"},"sourceIPAddress":"203.0.113.7"}}`)
	var names []string // reuse across events: Match appends
	names, err := m.Match(event, names[:0])
	fmt.Println(names, err)

	why, _ := m.Explain(event, "ssh-brute")
	fmt.Println(why)
	// Output:
	// [not-internal root-login] <nil>
	// detail.severity: the event has no value here, want [{"numeric":[">=",5]}]
}

func ExampleParse() {
	_, err := pattern.Parse([]byte(`{"detail":{"severity":[{"numeric":["<",5,">",0]}]}}`))
	fmt.Println(err)
	// Output: detail.severity[0]: numeric: lower bound must come first
}
