package inspector

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the Inspector2 client the action calls.
// *inspector2.Client satisfies it.
type API interface {
	ListFindings(ctx context.Context, in *inspector2.ListFindingsInput, opts ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error)
}

var _ API = (*inspector2.Client)(nil)

// Findings lists an instance's active Inspector findings
// (aws.inspector.findings).
type Findings struct{}

var (
	_ action.Action  = Findings{}
	_ action.Checker = Findings{}
)

const findingsID = "aws.inspector.findings"

// The limits of the listing.
const (
	defaultTop  = 5
	maxTop      = 50
	maxFindings = 5000 // stop paging after this many; truncated says so
	pageSize    = 100  // ListFindings' own maximum
)

// Meta describes aws.inspector.findings.
func (Findings) Meta() action.Meta {
	return action.Meta{
		ID:      findingsID,
		Summary: "List the active Amazon Inspector findings of an instance, most severe first",
		Doc: "Pages through inspector2:ListFindings filtered on the instance (resourceId) and findingStatus ACTIVE, and " +
			"counts the findings by severity and by known exploit. top lists the most severe as " +
			"\"<vulnerability> <package> <severity> <title>\" lines (critical first, then by Inspector score, exploitable " +
			"first). When Inspector is not enabled in the account and region, or the response role may not read it, " +
			"Inspector answers AccessDeniedException and the action fails with a permanent error that says so; use " +
			"on_error: continue where Inspector is optional.",
		Risk: action.ReadOnly,
		Params: []action.Param{
			{Name: "instance_id", Type: action.InstanceID, Required: true, Target: action.TargetInstance, Doc: "the EC2 instance whose findings to list"},
			{Name: "top", Type: action.Int, Default: action.IntValue(defaultTop), Doc: fmt.Sprintf("how many findings to list in top (1 to %d)", maxTop)},
		},
		Outputs: []action.Field{
			{Name: "count", Type: action.Int, Doc: "the number of active findings"},
			{Name: "critical", Type: action.Int, Doc: "the number of CRITICAL findings"},
			{Name: "high", Type: action.Int, Doc: "the number of HIGH findings"},
			{Name: "exploitable", Type: action.Int, Doc: "the number of findings with a known exploit (exploitAvailable YES)"},
			{Name: "top", Type: action.StringList, Doc: `the most severe findings, "CVE-2024-6387 openssh-server CRITICAL CVE-2024-6387 - openssh-server"; network findings show the port ("22/TCP - MEDIUM Port 22 is reachable ...")`},
			{Name: "finding_arns", Type: action.StringList, Doc: "the ARNs of the findings in top, in the same order"},
			{Name: "summary", Type: action.String, Doc: "one sentence for people: counts and the most severe finding"},
			{Name: "truncated", Type: action.Bool, Doc: fmt.Sprintf("whether the instance has more than %d active findings and only the first were read", maxFindings)},
		},
		IAM:         []string{"inspector2:ListFindings"},
		Idempotency: action.Idempotent,
	}
}

func filters(instance string) *types.FilterCriteria {
	eq := func(v string) []types.StringFilter {
		return []types.StringFilter{{Comparison: types.StringComparisonEquals, Value: aws.String(v)}}
	}
	return &types.FilterCriteria{ResourceId: eq(instance), FindingStatus: eq(string(types.FindingStatusActive))}
}

func checkTop(call action.Call) (int, error) {
	top := call.Params.Int("top")
	if _, given := call.Params["top"]; !given {
		top = defaultTop
	}
	if top < 1 || top > maxTop {
		return 0, action.Mark(action.Permanent, fmt.Errorf("%s: parameter top: must be 1 to %d, got %d", findingsID, maxTop, top))
	}
	return int(top), nil
}

// Check reports the call Do makes; it only reads.
func (Findings) Check(_ context.Context, call action.Call) ([]action.PlannedCall, error) {
	if _, err := checkTop(call); err != nil {
		return nil, err
	}
	id := call.Params.Str("instance_id")
	return []action.PlannedCall{{Operation: "inspector2:ListFindings", Resource: id, Detail: "resourceId=" + id + ",findingStatus=ACTIVE"}}, nil
}

// Do lists and sums up the findings.
func (Findings) Do(ctx context.Context, call action.Call) (action.Values, error) {
	top, err := checkTop(call)
	if err != nil {
		return nil, err
	}
	id := call.Params.Str("instance_id")
	cfg, err := call.AWSConfig(ctx, findingsID)
	if err != nil {
		return nil, err
	}
	return list(ctx, inspector2.NewFromConfig(cfg), call, id, top)
}

func list(ctx context.Context, api API, call action.Call, id string, top int) (action.Values, error) {
	var all []types.Finding
	truncated := false
	p := inspector2.NewListFindingsPaginator(api, &inspector2.ListFindingsInput{FilterCriteria: filters(id), MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		if len(all) >= maxFindings {
			truncated = true
			break
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			if action.ErrorCode(err) == "AccessDeniedException" {
				return nil, action.Mark(action.Permanent, fmt.Errorf("%s: Inspector is not enabled in account %s region %s, or the response role may not call inspector2:ListFindings: %w",
					findingsID, call.Target.Account, call.Target.Region, err))
			}
			return nil, fmt.Errorf("%s: list findings of %s: %w", findingsID, id, err)
		}
		all = append(all, page.Findings...)
	}
	slices.SortStableFunc(all, compareFindings)

	var critical, high, exploitable int64
	for _, f := range all {
		switch f.Severity {
		case types.SeverityCritical:
			critical++
		case types.SeverityHigh:
			high++
		}
		if f.ExploitAvailable == types.ExploitAvailableYes {
			exploitable++
		}
	}
	lines, arns := []string{}, []string{}
	for _, f := range all[:min(top, len(all))] {
		lines = append(lines, line(f))
		arns = append(arns, aws.ToString(f.FindingArn))
	}
	summary := fmt.Sprintf("No active Inspector findings on %s.", id)
	if len(all) > 0 {
		more := ""
		if truncated {
			more = " at least"
		}
		summary = fmt.Sprintf("%s has%s %d active Inspector finding%s: %d critical, %d high, %d with a known exploit. Most severe: %s.",
			id, more, len(all), plural(len(all)), critical, high, exploitable, headline(all[0]))
	}
	call.Log().InfoContext(ctx, "inspector findings", "instance", id, "count", len(all), "critical", critical, "high", high, "exploitable", exploitable)
	return action.Values{
		"count":        action.IntValue(int64(len(all))),
		"critical":     action.IntValue(critical),
		"high":         action.IntValue(high),
		"exploitable":  action.IntValue(exploitable),
		"top":          action.ListValue(lines),
		"finding_arns": action.ListValue(arns),
		"summary":      action.StringValue(summary),
		"truncated":    action.BoolValue(truncated),
	}, nil
}

// severityRank orders Inspector severities, least severe first.
func severityRank(s types.Severity) int {
	return slices.Index([]types.Severity{types.SeverityUntriaged, types.SeverityInformational, types.SeverityLow, types.SeverityMedium, types.SeverityHigh, types.SeverityCritical}, s)
}

// compareFindings orders the most severe first: by severity, then
// Inspector score, then exploitable first, then by vulnerability id.
func compareFindings(a, b types.Finding) int {
	exploit := func(f types.Finding) int {
		if f.ExploitAvailable == types.ExploitAvailableYes {
			return 1
		}
		return 0
	}
	return cmp.Or(
		-cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)),
		-cmp.Compare(aws.ToFloat64(a.InspectorScore), aws.ToFloat64(b.InspectorScore)),
		-cmp.Compare(exploit(a), exploit(b)),
		cmp.Compare(vulnerability(a), vulnerability(b)),
		cmp.Compare(aws.ToString(a.FindingArn), aws.ToString(b.FindingArn)),
	)
}

// vulnerability names what a finding is about: its CVE, or for a network
// finding its open port range.
func vulnerability(f types.Finding) string {
	if d := f.PackageVulnerabilityDetails; d != nil && aws.ToString(d.VulnerabilityId) != "" {
		return aws.ToString(d.VulnerabilityId)
	}
	if d := f.NetworkReachabilityDetails; d != nil && d.OpenPortRange != nil {
		ports := fmt.Sprint(aws.ToInt32(d.OpenPortRange.Begin))
		if e := aws.ToInt32(d.OpenPortRange.End); e != aws.ToInt32(d.OpenPortRange.Begin) {
			ports += fmt.Sprintf("-%d", e)
		}
		return ports + "/" + string(d.Protocol)
	}
	return string(f.Type)
}

// packages lists the vulnerable packages of a finding, "-" when none.
func packages(f types.Finding) string {
	var names []string
	if d := f.PackageVulnerabilityDetails; d != nil {
		for _, p := range d.VulnerablePackages {
			names = append(names, aws.ToString(p.Name))
		}
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(slices.Compact(names), ",")
}

// line is one finding for top: "CVE-… package SEVERITY title".
func line(f types.Finding) string {
	return fmt.Sprintf("%s %s %s %s", vulnerability(f), packages(f), f.Severity, oneLine(aws.ToString(f.Title)))
}

// headline is the most severe finding for the summary.
func headline(f types.Finding) string {
	s := vulnerability(f)
	if p := packages(f); p != "-" {
		s += " in " + p
	}
	s += " (" + string(f.Severity)
	if f.ExploitAvailable == types.ExploitAvailableYes {
		s += ", exploit available"
	}
	if f.FixAvailable == types.FixAvailableYes {
		s += ", fix available"
	}
	return s + ")"
}

// oneLine keeps a title on one line and at most 200 characters.
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
