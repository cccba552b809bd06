package securityhub

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Findings reads the Security Hub findings of an instance, or one finding
// (aws.securityhub.findings).
type Findings struct{}

var (
	_ action.Action  = Findings{}
	_ action.Checker = Findings{}
)

const findingsID = "aws.securityhub.findings"

const (
	defaultTop = 5
	maxTop     = 50
)

// Meta describes aws.securityhub.findings.
func (Findings) Meta() action.Meta {
	return action.Meta{
		ID:      findingsID,
		Summary: "Read the Security Hub findings of an instance, or one finding, most severe first",
		Doc: "Pages through securityhub:GetFindings. With instance_id it selects the active findings (RecordState ACTIVE) " +
			"whose ResourceId is the instance's ARN or its bare id, as products name it either way; with finding_id it " +
			"selects that finding (an ASFF Id, or a GuardDuty finding id resolved among the GuardDuty product's findings); " +
			"with both, the finding must be about the instance. by_severity and top list the most severe first. When " +
			"Security Hub is not enabled in the account and region the action fails with a permanent error that says so.",
		Risk: action.ReadOnly,
		Params: []action.Param{
			{Name: "instance_id", Type: action.InstanceID, Target: action.TargetInstance, Doc: "the instance whose findings to read; give it, finding_id or both"},
			{Name: "finding_id", Type: action.String, Doc: "one finding: its ASFF Id, or a GuardDuty finding id (32 hex characters)"},
			{Name: "top", Type: action.Int, Default: action.IntValue(defaultTop), Doc: fmt.Sprintf("how many findings to list in top (1 to %d)", maxTop)},
		},
		Outputs: []action.Field{
			{Name: "count", Type: action.Int, Doc: "the number of findings"},
			{Name: "by_severity", Type: action.StringList, Doc: `the count of each severity present, most severe first: "CRITICAL=1", "HIGH=2"`},
			{Name: "critical", Type: action.Int, Doc: "the number of CRITICAL findings"},
			{Name: "high", Type: action.Int, Doc: "the number of HIGH findings"},
			{Name: "top", Type: action.StringList, Doc: `the most severe findings, "HIGH GuardDuty NEW <title>" (severity, product, workflow status, title)`},
			{Name: "ids", Type: action.StringList, Doc: "the ASFF Ids of every finding read, most severe first"},
			{Name: "product_arns", Type: action.StringList, Doc: "the product ARN of each finding in ids, in the same order"},
			{Name: "summary", Type: action.String, Doc: "one sentence for people: counts and the most severe finding"},
			{Name: "truncated", Type: action.Bool, Doc: fmt.Sprintf("whether there were more than %d findings and only the first were read", maxFindings)},
		},
		IAM:         []string{"securityhub:GetFindings"},
		Idempotency: action.Idempotent,
	}
}

// query is what a call selects.
type query struct {
	instance, finding string
	top               int
}

func parse(call action.Call) (query, error) {
	q := query{instance: call.Params.Str("instance_id"), finding: strings.TrimSpace(call.Params.Str("finding_id")), top: defaultTop}
	if q.instance == "" && q.finding == "" {
		return q, action.Mark(action.Permanent, fmt.Errorf("%s: give instance_id, finding_id or both", findingsID))
	}
	if _, given := call.Params["top"]; given {
		q.top = int(call.Params.Int("top"))
	}
	if q.top < 1 || q.top > maxTop {
		return q, action.Mark(action.Permanent, fmt.Errorf("%s: parameter top: must be 1 to %d, got %d", findingsID, maxTop, q.top))
	}
	return q, nil
}

// filters returns the GetFindings filters and the local check for q.
func (q query) filters(t action.Target) (*types.AwsSecurityFindingFilters, func(types.AwsSecurityFinding) bool) {
	if q.finding != "" {
		f, keep := findingFilter(t, q.finding)
		if q.instance == "" {
			return f, keep
		}
		return f, func(x types.AwsSecurityFinding) bool { return keep(x) && about(x, t, q.instance) }
	}
	arn := instanceARN(t, q.instance)
	return &types.AwsSecurityFindingFilters{
		ResourceId:  []types.StringFilter{eq(arn), eq(q.instance)},
		RecordState: []types.StringFilter{eq(string(types.RecordStateActive))},
	}, func(types.AwsSecurityFinding) bool { return true }
}

// about reports whether f names the instance among its resources.
func about(f types.AwsSecurityFinding, t action.Target, instance string) bool {
	arn := instanceARN(t, instance)
	for _, r := range f.Resources {
		if id := aws.ToString(r.Id); id == arn || id == instance {
			return true
		}
	}
	return false
}

func (q query) detail() string {
	var parts []string
	if q.instance != "" {
		parts = append(parts, "ResourceId="+q.instance+" (id or ARN)")
	}
	if q.finding != "" {
		parts = append(parts, findingDetail(q.finding))
	} else {
		parts = append(parts, "RecordState=ACTIVE")
	}
	return strings.Join(parts, ",")
}

// Check reports the call Do makes; it only reads.
func (Findings) Check(_ context.Context, call action.Call) ([]action.PlannedCall, error) {
	q, err := parse(call)
	if err != nil {
		return nil, err
	}
	return []action.PlannedCall{{Operation: "securityhub:GetFindings", Resource: cmp.Or(q.finding, q.instance), Detail: q.detail()}}, nil
}

// Do reads and sums up the findings.
func (Findings) Do(ctx context.Context, call action.Call) (action.Values, error) {
	q, err := parse(call)
	if err != nil {
		return nil, err
	}
	api, err := client(ctx, findingsID, call)
	if err != nil {
		return nil, err
	}
	filters, keep := q.filters(call.Target)
	all, truncated, err := get(ctx, api, findingsID, call.Target, filters, keep)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b types.AwsSecurityFinding) int {
		return cmp.Or(
			cmp.Compare(slices.Index(severityOrder, severityLabel(a)), slices.Index(severityOrder, severityLabel(b))),
			-cmp.Compare(aws.ToString(a.UpdatedAt), aws.ToString(b.UpdatedAt)),
			cmp.Compare(aws.ToString(a.Id), aws.ToString(b.Id)),
		)
	})
	counts := map[types.SeverityLabel]int64{}
	ids, products, top := []string{}, []string{}, []string{}
	for i, f := range all {
		counts[severityLabel(f)]++
		ids = append(ids, aws.ToString(f.Id))
		products = append(products, aws.ToString(f.ProductArn))
		if i < q.top {
			top = append(top, line(f))
		}
	}
	bySeverity := []string{}
	for _, s := range severityOrder {
		if counts[s] > 0 {
			bySeverity = append(bySeverity, fmt.Sprintf("%s=%d", s, counts[s]))
		}
	}
	what := "instance " + q.instance
	if q.finding != "" {
		what = "finding " + q.finding
	}
	summary := fmt.Sprintf("No Security Hub findings for %s.", what)
	if len(all) > 0 {
		summary = fmt.Sprintf("%d Security Hub finding%s for %s (%s). Most severe: %s.", len(all), plural(len(all)), what,
			strings.ReplaceAll(strings.Join(bySeverity, ", "), "=", " "), headline(all[0]))
	}
	call.Log().InfoContext(ctx, "security hub findings", "instance", q.instance, "finding", q.finding, "count", len(all))
	return action.Values{
		"count":        action.IntValue(int64(len(all))),
		"by_severity":  action.ListValue(bySeverity),
		"critical":     action.IntValue(counts[types.SeverityLabelCritical]),
		"high":         action.IntValue(counts[types.SeverityLabelHigh]),
		"top":          action.ListValue(top),
		"ids":          action.ListValue(ids),
		"product_arns": action.ListValue(products),
		"summary":      action.StringValue(summary),
		"truncated":    action.BoolValue(truncated),
	}, nil
}

// line is one finding for top: "SEVERITY Product STATUS title".
func line(f types.AwsSecurityFinding) string {
	return fmt.Sprintf("%s %s %s %s", severityLabel(f), productName(f), cmp.Or(string(workflowStatus(f)), "NEW"), oneLine(aws.ToString(f.Title)))
}

func headline(f types.AwsSecurityFinding) string {
	return fmt.Sprintf("%s (%s, %s)", oneLine(aws.ToString(f.Title)), productName(f), severityLabel(f))
}

func productName(f types.AwsSecurityFinding) string {
	if n := aws.ToString(f.ProductName); n != "" {
		return strings.ReplaceAll(n, " ", "")
	}
	arn := aws.ToString(f.ProductArn)
	return arn[strings.LastIndex(arn, "/")+1:]
}

// oneLine keeps text on one line and at most 200 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
