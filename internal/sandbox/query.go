package sandbox

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// isoTime formats t as the query protocols do.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// required returns the form value name or a MissingParameter/ValidationError.
func required(form url.Values, name string) (string, error) {
	v := form.Get(name)
	if v == "" {
		return "", Errorf("ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return v, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}

// formMembers returns the structures of a query list: prefix.1.Field,
// prefix.2.Field, ... (prefix is e.g. "Tags.member").
func formMembers(form url.Values, prefix string, fields ...string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		m := map[string]string{}
		found := false
		for _, f := range fields {
			key := fmt.Sprintf("%s.%d.%s", prefix, i, f)
			if v, ok := form[key]; ok {
				m[f] = v[0]
				found = true
			}
		}
		if !found {
			return out
		}
		out = append(out, m)
	}
}

// formList returns the scalar members of a query list: prefix.1, prefix.2...
func formList(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// page returns the slice of n items starting at marker and the next marker
// ("" when done). Markers are opaque offsets.
func page(n int, marker string, maxItems string, def int) (start, end int, next string, err error) {
	limit := def
	if maxItems != "" {
		limit, err = strconv.Atoi(maxItems)
		if err != nil || limit < 1 || limit > 1000 {
			return 0, 0, "", Errorf("ValidationError", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", maxItems)
		}
	}
	if marker != "" {
		start, err = strconv.Atoi(marker)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", Errorf("InvalidInput", "Invalid Marker.")
		}
	}
	end = min(start+limit, n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}
