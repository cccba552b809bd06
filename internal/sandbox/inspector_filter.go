package sandbox

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// wireStringFilter is a string filter of Inspector2 ({"comparison",
// "value"}) and Security Hub ({"Comparison", "Value"}); encoding/json
// matches the member names case-insensitively, so one type decodes both.
type wireStringFilter struct {
	Comparison string `json:"comparison"`
	Value      string `json:"value"`
}

// negative reports whether a comparison excludes rather than selects.
func negativeComparison(c string) bool {
	switch c {
	case "NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS":
		return true
	}
	return false
}

func compareString(c, want, got string) bool {
	switch c {
	case "EQUALS", "NOT_EQUALS":
		return got == want
	case "PREFIX", "PREFIX_NOT_EQUALS":
		return strings.HasPrefix(got, want)
	case "CONTAINS", "NOT_CONTAINS":
		return strings.Contains(got, want)
	}
	return false
}

// matchStringFilters applies the filters of one field to the field's
// values (several for list fields such as Security Hub's Types or a
// finding's resources). Selecting filters (EQUALS, PREFIX, CONTAINS) are
// OR'ed: one value must match one of them. Excluding filters (NOT_EQUALS,
// PREFIX_NOT_EQUALS, NOT_CONTAINS) are AND'ed: no value may match any.
// No filters match everything.
func matchStringFilters(fs []wireStringFilter, values []string) bool {
	var positive, matched bool
	for _, f := range fs {
		if negativeComparison(f.Comparison) {
			for _, v := range values {
				if compareString(f.Comparison, f.Value, v) {
					return false
				}
			}
			continue
		}
		positive = true
		for _, v := range values {
			if compareString(f.Comparison, f.Value, v) {
				matched = true
			}
		}
	}
	return !positive || matched
}

// checkStringFilters reports the first filter whose comparison is not one
// of allowed or whose value is empty, naming the field.
func checkStringFilters(field string, fs []wireStringFilter, allowed ...string) error {
	for i, f := range fs {
		ok := false
		for _, a := range allowed {
			ok = ok || f.Comparison == a
		}
		if !ok {
			return fmt.Errorf("%s[%d].comparison: %q is not one of %s", field, i, f.Comparison, strings.Join(allowed, ", "))
		}
		if f.Value == "" || len(f.Value) > 1024 {
			return fmt.Errorf("%s[%d].value: must be 1 to 1024 characters", field, i)
		}
	}
	return nil
}

// pageToken encodes the offset of the next page. It is opaque to clients;
// service names the token so that one service's token is refused by the
// other.
func pageToken(service string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(service + ":" + strconv.Itoa(offset)))
}

// parsePageToken returns the offset a token from pageToken holds; "" is 0.
func parsePageToken(service, token string) (int, bool) {
	if token == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), service+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// severityRank orders the severity labels both services use, least severe
// first; unknown labels rank lowest.
func severityRank(label string) int {
	switch label {
	case "INFORMATIONAL":
		return 1
	case "LOW":
		return 2
	case "MEDIUM":
		return 3
	case "HIGH":
		return 4
	case "CRITICAL":
		return 5
	}
	return 0
}
