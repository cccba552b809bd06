package securityhub

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshub "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the Security Hub client the actions call.
// *securityhub.Client satisfies it.
type API interface {
	GetFindings(ctx context.Context, in *awshub.GetFindingsInput, opts ...func(*awshub.Options)) (*awshub.GetFindingsOutput, error)
	BatchUpdateFindings(ctx context.Context, in *awshub.BatchUpdateFindingsInput, opts ...func(*awshub.Options)) (*awshub.BatchUpdateFindingsOutput, error)
}

var _ API = (*awshub.Client)(nil)

// client builds the Security Hub client for the call's target.
func client(ctx context.Context, id string, call action.Call) (API, error) {
	cfg, err := call.AWSConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	return awshub.NewFromConfig(cfg), nil
}

// maxFindings stops paging through GetFindings after this many findings
// were read; truncated outputs say so.
const maxFindings = 2000

var reGuardDutyID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// partition returns the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func eq(v string) types.StringFilter {
	return types.StringFilter{Comparison: types.StringFilterComparisonEquals, Value: aws.String(v)}
}

// instanceARN is the ARN Security Hub products name an instance by.
func instanceARN(t action.Target, id string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:instance/%s", partition(t.Region), t.Region, t.Account, id)
}

// findingFilter selects one finding: by its ASFF Id, or, for a GuardDuty
// finding id (32 hex characters), every GuardDuty finding of the account
// and region, among which matches keeps the one whose Id ends in
// /finding/<id>.
func findingFilter(t action.Target, id string) (*types.AwsSecurityFindingFilters, func(types.AwsSecurityFinding) bool) {
	if reGuardDutyID.MatchString(id) {
		prefix := fmt.Sprintf("arn:%s:guardduty:%s:%s:detector/", partition(t.Region), t.Region, t.Account)
		f := &types.AwsSecurityFindingFilters{
			ProductName: []types.StringFilter{eq("GuardDuty")},
			Id:          []types.StringFilter{{Comparison: types.StringFilterComparisonPrefix, Value: aws.String(prefix)}},
		}
		return f, func(x types.AwsSecurityFinding) bool { return strings.HasSuffix(aws.ToString(x.Id), "/finding/"+id) }
	}
	return &types.AwsSecurityFindingFilters{Id: []types.StringFilter{eq(id)}}, func(types.AwsSecurityFinding) bool { return true }
}

// findingDetail describes a finding filter for a planned call.
func findingDetail(id string) string {
	if reGuardDutyID.MatchString(id) {
		return "GuardDuty finding " + id
	}
	return "Id=" + id
}

// get pages through GetFindings and keeps the findings keep accepts. It
// reads at most maxFindings findings and says whether there were more.
func get(ctx context.Context, api API, actionID string, t action.Target, filters *types.AwsSecurityFindingFilters, keep func(types.AwsSecurityFinding) bool) ([]types.AwsSecurityFinding, bool, error) {
	var out []types.AwsSecurityFinding
	read := 0
	p := awshub.NewGetFindingsPaginator(api, &awshub.GetFindingsInput{Filters: filters, MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		if read >= maxFindings {
			return out, true, nil
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, false, hubError(actionID, t, "get findings", err)
		}
		read += len(page.Findings)
		for _, f := range page.Findings {
			if keep(f) {
				out = append(out, f)
			}
		}
	}
	return out, false, nil
}

// hubError wraps a Security Hub error; not being subscribed is a
// permanent error that says so.
func hubError(actionID string, t action.Target, what string, err error) error {
	if action.ErrorCode(err) == "InvalidAccessException" {
		return action.Mark(action.Permanent, fmt.Errorf("%s: Security Hub is not enabled in account %s region %s: %w", actionID, t.Account, t.Region, err))
	}
	return fmt.Errorf("%s: %s: %w", actionID, what, err)
}

// severityOrder lists the severity labels, most severe first.
var severityOrder = []types.SeverityLabel{types.SeverityLabelCritical, types.SeverityLabelHigh, types.SeverityLabelMedium, types.SeverityLabelLow, types.SeverityLabelInformational}

func severityLabel(f types.AwsSecurityFinding) types.SeverityLabel {
	if f.Severity == nil {
		return types.SeverityLabelInformational
	}
	return f.Severity.Label
}

func workflowStatus(f types.AwsSecurityFinding) types.WorkflowStatus {
	if f.Workflow == nil {
		return ""
	}
	return f.Workflow.Status
}
