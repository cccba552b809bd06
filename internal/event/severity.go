package event

import (
	"math"
	"strconv"
	"strings"
)

// band names the band a 0–10 score falls in, on GuardDuty's and Security
// Hub's boundaries: 0 informational, below 4 low, below 7 medium, below 9
// high, 9 and above critical.
func band(score float64) string {
	switch {
	case score <= 0:
		return "informational"
	case score < 4:
		return "low"
	case score < 7:
		return "medium"
	case score < 9:
		return "high"
	}
	return "critical"
}

// labelScores are the scores for a severity given only as a label. They are
// the bottoms of the bands, which is what Security Hub itself uses when it
// derives Normalized from Label (LOW 1, MEDIUM 40, HIGH 70, CRITICAL 90).
var labelScores = map[string]float64{
	"INFORMATIONAL": 0,
	"UNTRIAGED":     0,
	"LOW":           1,
	"MEDIUM":        4,
	"HIGH":          7,
	"CRITICAL":      9,
}

// fromLabel maps a severity label to a score; ok is false for unknown
// labels.
func fromLabel(label string) (float64, bool) {
	s, ok := labelScores[strings.ToUpper(strings.TrimSpace(label))]
	return s, ok
}

// clamp keeps a score within 0–10 and rounds it to one decimal.
func clamp(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	if f > 10 {
		return 10
	}
	return math.Round(f*10) / 10
}

// formatNumber writes f as the shortest decimal.
func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// macieScores maps Macie's severity (score 1–3, description Low, Medium,
// High) onto the same numbers GuardDuty uses for its bands: 2, 5, 8.
var macieScores = map[string]float64{"LOW": 2, "MEDIUM": 5, "HIGH": 8}

// healthSeverity scores an AWS Health event, which carries no severity of
// its own. Risk events about credentials are what Firebreak exists for:
// exposed or compromised keys are critical, suspected ones and
// quarantines high. Abuse reports are high. Other events score by
// category: issue 4 (medium), scheduledChange 3 (low),
// accountNotification 1 (low).
func healthSeverity(code, category string) Severity {
	switch {
	case code == "AWS_RISK_CREDENTIALS_EXPOSED" || code == "AWS_RISK_CREDENTIALS_COMPROMISED":
		return Severity{Score: 9, Original: "eventTypeCode " + code}
	case strings.HasPrefix(code, "AWS_RISK_") || strings.HasPrefix(code, "AWS_ABUSE_"):
		return Severity{Score: 7, Original: "eventTypeCode " + code}
	}
	switch category {
	case "issue", "investigation":
		return Severity{Score: 4, Original: "eventTypeCategory " + category}
	case "scheduledChange":
		return Severity{Score: 3, Original: "eventTypeCategory " + category}
	case "accountNotification":
		return Severity{Score: 1, Original: "eventTypeCategory " + category}
	}
	return Severity{Original: "eventTypeCategory " + category}
}

// trustedAdvisorSeverity scores a Trusted Advisor check item from its
// status: ERROR (red) 7, WARN (yellow) 4, OK 0. An ERROR from the
// Exposed Access Keys check is 9, as critical as AWS Health's
// AWS_RISK_CREDENTIALS_EXPOSED, since it reports the same thing.
func trustedAdvisorSeverity(check, status string) Severity {
	s := Severity{Original: status}
	switch strings.ToUpper(status) {
	case "ERROR":
		s.Score = 7
		if check == "Exposed Access Keys" {
			s.Score = 9
		}
	case "WARN", "WARNING":
		s.Score = 4
	}
	return s
}
