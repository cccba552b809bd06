package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are the textual time formats AWS sources use, tried in order.
// Layouts without a zone are read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,                // 2017-10-31T23:16:23.824Z, 2020-01-15T15:55:49.624441+00:00
	"2006-01-02T15:04:05.999999999", // no zone
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",  // 2025-02-25 20:40:06.721 (GuardDuty via some exports, Panther)
	"Mon, 2 Jan 2006 15:04:05 MST",   // Wed, 12 Feb 2025 00:37:54 GMT (Health)
	"Mon, 2 Jan 2006 15:04:05 -0700", // RFC 1123 with a numeric zone
	"Jan 2, 2006, 3:04:05 PM",        // Dec 3, 2021, 6:02:30 PM (Inspector2)
	"Jan 2, 2006 3:04:05 PM",         // Mar 24, 2014 9:11:59 PM (IAM responseElements)
}

// parseTime reads a time in any format AWS uses: the textual layouts
// above, epoch milliseconds or seconds as a number or a string of digits,
// and the {"__class__":"datetime",...} object botocore recordings use. It
// returns the time in UTC.
func parseTime(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, fmt.Errorf("missing time")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, fmt.Errorf("invalid string: %v", err)
		}
		return parseTimeString(s)
	case '{':
		return parseBotocoreTime(raw)
	default:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("cannot read %q as a time", clip(string(raw)))
		}
		return epoch(f)
	}
}

// parseTimeString reads a time written as a string.
func parseTimeString(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if isDecimal(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			return epoch(f)
		}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a time (expected RFC 3339, RFC 1123, epoch milliseconds or another AWS time format)", clip(s))
}

// isDecimal reports whether s is digits with at most one decimal point.
func isDecimal(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return len(s) > 0
}

// epoch reads a Unix time: milliseconds when it is too large to be
// seconds (anything past the year 5138 in seconds is taken as
// milliseconds), seconds otherwise.
func epoch(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e15 {
		return time.Time{}, fmt.Errorf("epoch time %v out of range", f)
	}
	if f >= 1e11 {
		ms := int64(f)
		return time.UnixMilli(ms).UTC(), nil
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}

// parseBotocoreTime reads the datetime object that botocore's placebo
// recordings write: {"__class__":"datetime","year":2023,...}.
func parseBotocoreTime(raw json.RawMessage) (time.Time, error) {
	var d struct {
		Class       string `json:"__class__"`
		Year        int    `json:"year"`
		Month       int    `json:"month"`
		Day         int    `json:"day"`
		Hour        int    `json:"hour"`
		Minute      int    `json:"minute"`
		Second      int    `json:"second"`
		Microsecond int    `json:"microsecond"`
	}
	if err := json.Unmarshal(raw, &d); err != nil || d.Class != "datetime" {
		return time.Time{}, fmt.Errorf("expected a time string or number, got an object")
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 || d.Hour < 0 || d.Hour > 23 ||
		d.Minute < 0 || d.Minute > 59 || d.Second < 0 || d.Second > 60 || d.Microsecond < 0 || d.Microsecond > 999999 {
		return time.Time{}, fmt.Errorf("datetime object out of range")
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, d.Second, d.Microsecond*1000, time.UTC), nil
}

// clip shortens s for an error message.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
