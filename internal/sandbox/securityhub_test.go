package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	hubAccount   = "111111111111"
	hubRegion    = "us-east-1"
	gdProduct    = "arn:aws:securityhub:us-east-1::product/aws/guardduty"
	hubDetector  = "12abc34d567e8fa901bc2d34e56789f0"
	customProd   = "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"
	sshFindingID = "arn:aws:guardduty:us-east-1:111111111111:detector/" + hubDetector + "/finding/5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
)

func hubClient(t testing.TB, sb *sandbox.Sandbox, creds sandbox.Credentials) *securityhub.Client {
	return securityhub.NewFromConfig(sandboxtest.Config(t, sb, creds))
}

func hubEq(v string) shtypes.StringFilter {
	return shtypes.StringFilter{Comparison: shtypes.StringFilterComparisonEquals, Value: aws.String(v)}
}

func hubSF(c shtypes.StringFilterComparison, v string) shtypes.StringFilter {
	return shtypes.StringFilter{Comparison: c, Value: aws.String(v)}
}

// hubIDs lists the Ids GetFindings returns for filters, every page, in
// order.
func hubIDs(t *testing.T, c *securityhub.Client, filters *shtypes.AwsSecurityFindingFilters, sort ...shtypes.SortCriterion) []string {
	t.Helper()
	var out []string
	p := securityhub.NewGetFindingsPaginator(c, &securityhub.GetFindingsInput{Filters: filters, SortCriteria: sort, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Findings) > 2 {
			t.Fatalf("page of %d findings, asked for 2", len(page.Findings))
		}
		for _, f := range page.Findings {
			out = append(out, aws.ToString(f.Id))
		}
	}
	return out
}

// short strips the GuardDuty detector prefix from finding ids.
func short(ids []string) []string {
	var out []string
	for _, id := range ids {
		_, rest, ok := strings.Cut(id, "/finding/")
		if !ok {
			rest = id
		}
		out = append(out, rest)
	}
	slices.Sort(out)
	return out
}

func TestSecurityHubGetFindingsFilters(t *testing.T) {
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	web1ARN := "arn:aws:ec2:us-east-1:111111111111:instance/" + hubWeb1
	const ssh, btc, iam, scanner = "5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "6ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d6", "7ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d7", "acme-scanner/web-1/openssh"
	for _, tt := range []struct {
		name    string
		filters *shtypes.AwsSecurityFindingFilters
		want    []string
	}{
		{"everything", nil, []string{ssh, btc, iam, scanner}},
		{"GuardDuty by product name", &shtypes.AwsSecurityFindingFilters{ProductName: []shtypes.StringFilter{hubEq("GuardDuty")}}, []string{ssh, btc, iam}},
		{"GuardDuty by product ARN", &shtypes.AwsSecurityFindingFilters{ProductArn: []shtypes.StringFilter{hubEq(gdProduct)}}, []string{ssh, btc, iam}},
		{"instance ARN", &shtypes.AwsSecurityFindingFilters{ResourceId: []shtypes.StringFilter{hubEq(web1ARN)}}, []string{ssh, scanner}},
		{"instance ARN or id (OR'ed)", &shtypes.AwsSecurityFindingFilters{ResourceId: []shtypes.StringFilter{hubEq(web1ARN), hubEq(hubWeb1)}}, []string{ssh, scanner}},
		{"resource type", &shtypes.AwsSecurityFindingFilters{ResourceType: []shtypes.StringFilter{hubEq("AwsIamAccessKey")}}, []string{iam}},
		{"severity label", &shtypes.AwsSecurityFindingFilters{SeverityLabel: []shtypes.StringFilter{hubEq("HIGH")}}, []string{btc, scanner}},
		{"workflow new", &shtypes.AwsSecurityFindingFilters{WorkflowStatus: []shtypes.StringFilter{hubEq("NEW")}}, []string{ssh, btc, iam, scanner}},
		{"record archived", &shtypes.AwsSecurityFindingFilters{RecordState: []shtypes.StringFilter{hubEq("ARCHIVED")}}, nil},
		{"generator", &shtypes.AwsSecurityFindingFilters{GeneratorId: []shtypes.StringFilter{hubEq("UnauthorizedAccess:EC2/SSHBruteForce")}}, []string{ssh}},
		{"type prefix", &shtypes.AwsSecurityFindingFilters{Type: []shtypes.StringFilter{hubSF(shtypes.StringFilterComparisonPrefix, "Effects/")}}, []string{btc}},
		{"id prefix not equals", &shtypes.AwsSecurityFindingFilters{Id: []shtypes.StringFilter{hubSF(shtypes.StringFilterComparisonPrefixNotEquals, "arn:aws:guardduty:")}}, []string{scanner}},
		{"id not equals", &shtypes.AwsSecurityFindingFilters{Id: []shtypes.StringFilter{hubSF(shtypes.StringFilterComparisonNotEquals, scanner), hubSF(shtypes.StringFilterComparisonNotEquals, sshFindingID)}}, []string{btc, iam}},
		{"product field", &shtypes.AwsSecurityFindingFilters{ProductFields: []shtypes.MapFilter{{Key: aws.String("aws/guardduty/service/detectorId"), Value: aws.String(hubDetector), Comparison: shtypes.MapFilterComparisonEquals}}}, []string{ssh, btc, iam}},
		{"user-defined field", &shtypes.AwsSecurityFindingFilters{UserDefinedFields: []shtypes.MapFilter{{Key: aws.String("owner"), Value: aws.String("web-team"), Comparison: shtypes.MapFilterComparisonEquals}}}, []string{scanner}},
		{"resource tag", &shtypes.AwsSecurityFindingFilters{ResourceTags: []shtypes.MapFilter{{Key: aws.String("team"), Value: aws.String("web"), Comparison: shtypes.MapFilterComparisonEquals}}}, []string{scanner}},
		{"normalized severity", &shtypes.AwsSecurityFindingFilters{SeverityNormalized: []shtypes.NumberFilter{{Gte: aws.Float64(70)}}}, []string{btc, scanner}},
		{"updated in the last day", &shtypes.AwsSecurityFindingFilters{UpdatedAt: []shtypes.DateFilter{{DateRange: &shtypes.DateRange{Value: aws.Int32(1), Unit: shtypes.DateRangeUnitDays}}}}, []string{ssh, btc, iam, scanner}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := short(hubIDs(t, c, tt.filters))
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecurityHubGuardDutyShape(t *testing.T) {
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	out, err := c.GetFindings(context.Background(), &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{Id: []shtypes.StringFilter{hubEq(sshFindingID)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(out.Findings))
	}
	f := out.Findings[0]
	for _, c := range []struct{ what, got, want string }{
		{"product", aws.ToString(f.ProductArn), gdProduct},
		{"product name", aws.ToString(f.ProductName), "GuardDuty"},
		{"company", aws.ToString(f.CompanyName), "Amazon"},
		{"schema", aws.ToString(f.SchemaVersion), "2018-10-08"},
		{"type", f.Types[0], "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce"},
		{"severity", string(f.Severity.Label), "MEDIUM"},
		{"workflow", string(f.Workflow.Status), "NEW"},
		{"record", string(f.RecordState), "ACTIVE"},
		{"region", aws.ToString(f.Region), hubRegion},
		{"resource", aws.ToString(f.Resources[0].Id), "arn:aws:ec2:us-east-1:111111111111:instance/" + hubWeb1},
		{"detector field", f.ProductFields["aws/guardduty/service/detectorId"], hubDetector},
		{"finding id field", f.ProductFields["aws/securityhub/FindingId"], gdProduct + "/" + sshFindingID},
		{"source ip", aws.ToString(f.Network.SourceIpV4), "203.0.113.66"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if n := aws.ToInt32(f.Severity.Normalized); n != 50 {
		t.Errorf("normalized severity = %d, want 50", n)
	}
}

func TestSecurityHubPagingAndSort(t *testing.T) {
	ctx := context.Background()
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	var findings []shtypes.AwsSecurityFinding
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 7 {
		f := customFinding(fmt.Sprintf("batch-%d", i))
		f.UpdatedAt = aws.String(base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339))
		findings = append(findings, f)
	}
	out, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: findings})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.SuccessCount) != 7 || aws.ToInt32(out.FailedCount) != 0 {
		t.Fatalf("imported %d, failed %v", aws.ToInt32(out.SuccessCount), out.FailedFindings)
	}
	got := hubIDs(t, c, &shtypes.AwsSecurityFindingFilters{GeneratorId: []shtypes.StringFilter{hubEq("firebreak-test")}},
		shtypes.SortCriterion{Field: aws.String("UpdatedAt"), SortOrder: shtypes.SortOrderAscending})
	want := []string{"batch-0", "batch-1", "batch-2", "batch-3", "batch-4", "batch-5", "batch-6"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("oldest first over pages of 2 (-want +got):\n%s", diff)
	}
	_, err = c.GetFindings(ctx, &securityhub.GetFindingsInput{NextToken: aws.String("not-a-token")})
	if code := errorCode(err); code != "InvalidInputException" {
		t.Errorf("bad token: %v, want InvalidInputException", err)
	}
	_, err = c.GetFindings(ctx, &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{MalwareName: []shtypes.StringFilter{hubEq("x")}}})
	if code := errorCode(err); code != "InvalidInputException" || !strings.Contains(err.Error(), "MalwareName") {
		t.Errorf("unapplied filter: %v, want InvalidInputException naming MalwareName", err)
	}
}

// noClientValidation removes the SDK's check of required members.
func noClientValidation(o *securityhub.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, err := s.Initialize.Remove("OperationInputValidation")
		return err
	})
}

// customFinding is a valid finding of the account's own product.
func customFinding(id string) shtypes.AwsSecurityFinding {
	now := "2026-11-01T00:00:00Z"
	return shtypes.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"),
		Id:            aws.String(id),
		ProductArn:    aws.String(customProd),
		GeneratorId:   aws.String("firebreak-test"),
		AwsAccountId:  aws.String(hubAccount),
		Types:         []string{"Software and Configuration Checks/Vulnerabilities/CVE"},
		CreatedAt:     aws.String(now),
		UpdatedAt:     aws.String(now),
		Severity:      &shtypes.Severity{Label: shtypes.SeverityLabelLow},
		Title:         aws.String("test finding " + id),
		Description:   aws.String("a finding the test imported"),
		Resources:     []shtypes.Resource{{Type: aws.String("AwsEc2Instance"), Id: aws.String("arn:aws:ec2:us-east-1:111111111111:instance/" + hubWeb2)}},
	}
}

func TestSecurityHubBatchImportValidation(t *testing.T) {
	ctx := context.Background()
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	for _, tt := range []struct {
		name     string
		change   func(f *shtypes.AwsSecurityFinding)
		code     string
		contains string
	}{
		{"valid", func(f *shtypes.AwsSecurityFinding) {}, "", ""},
		{"no title", func(f *shtypes.AwsSecurityFinding) { f.Title = nil }, "InvalidInput", "required property 'Title'"},
		{"no resources", func(f *shtypes.AwsSecurityFinding) { f.Resources = nil }, "InvalidInput", "required property 'Resources'"},
		{"no severity label or normalized", func(f *shtypes.AwsSecurityFinding) { f.Severity = &shtypes.Severity{Original: aws.String("7")} }, "InvalidInput", "'Label' or 'Normalized'"},
		{"bad type namespace", func(f *shtypes.AwsSecurityFinding) { f.Types = []string{"Bad/Things"} }, "InvalidInput", "Types[0]"},
		{"bad schema", func(f *shtypes.AwsSecurityFinding) { f.SchemaVersion = aws.String("2020-01-01") }, "InvalidInput", "SchemaVersion"},
		{"bad date", func(f *shtypes.AwsSecurityFinding) { f.CreatedAt = aws.String("yesterday") }, "InvalidInput", "CreatedAt"},
		{"resource without id", func(f *shtypes.AwsSecurityFinding) { f.Resources[0].Id = nil }, "InvalidInput", "Resources[0]"},
		{"an AWS product", func(f *shtypes.AwsSecurityFinding) { f.ProductArn = aws.String(gdProduct) }, "AccessDeniedException", "not allowed"},
		{"another account", func(f *shtypes.AwsSecurityFinding) { f.AwsAccountId = aws.String("222222222222") }, "AccessDeniedException", "222222222222"},
		{"another region's product", func(f *shtypes.AwsSecurityFinding) {
			f.ProductArn = aws.String("arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default")
		}, "InvalidInput", "region"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := customFinding("import-" + strings.ReplaceAll(tt.name, " ", "-"))
			tt.change(&f)
			// The SDK checks required members before sending; skip that so
			// that the sandbox's own validation answers.
			out, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{f}}, noClientValidation)
			if err != nil {
				t.Fatal(err)
			}
			stored := hubIDs(t, c, &shtypes.AwsSecurityFindingFilters{Id: []shtypes.StringFilter{hubEq(aws.ToString(f.Id))}})
			if tt.code == "" {
				if aws.ToInt32(out.SuccessCount) != 1 || len(stored) != 1 {
					t.Fatalf("success %d, failed %+v, stored %v", aws.ToInt32(out.SuccessCount), out.FailedFindings, stored)
				}
				return
			}
			if aws.ToInt32(out.FailedCount) != 1 || len(out.FailedFindings) != 1 {
				t.Fatalf("failed %d %+v, want one failure", aws.ToInt32(out.FailedCount), out.FailedFindings)
			}
			ff := out.FailedFindings[0]
			if aws.ToString(ff.ErrorCode) != tt.code || !strings.Contains(aws.ToString(ff.ErrorMessage), tt.contains) {
				t.Errorf("failure %s %q, want %s containing %q", aws.ToString(ff.ErrorCode), aws.ToString(ff.ErrorMessage), tt.code, tt.contains)
			}
			if aws.ToString(ff.Id) != aws.ToString(f.Id) {
				t.Errorf("failure names %q, want %q", aws.ToString(ff.Id), aws.ToString(f.Id))
			}
			if len(stored) != 0 {
				t.Errorf("the refused finding was stored: %v", stored)
			}
		})
	}
	_, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{}})
	if code := errorCode(err); code != "InvalidInputException" {
		t.Errorf("no findings: %v, want InvalidInputException", err)
	}
}

func TestSecurityHubBatchUpdate(t *testing.T) {
	ctx := context.Background()
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	ssh := shtypes.AwsSecurityFindingIdentifier{Id: aws.String(sshFindingID), ProductArn: aws.String(gdProduct)}
	missing := shtypes.AwsSecurityFindingIdentifier{Id: aws.String("nope"), ProductArn: aws.String(gdProduct)}
	before := getOne(t, c, sshFindingID)

	out, err := c.BatchUpdateFindings(ctx, &securityhub.BatchUpdateFindingsInput{
		FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{ssh, missing, ssh},
		Workflow:           &shtypes.WorkflowUpdate{Status: shtypes.WorkflowStatusNotified},
		Note:               &shtypes.NoteUpdate{Text: aws.String("Firebreak isolated the instance."), UpdatedBy: aws.String("firebreak")},
		UserDefinedFields:  map[string]string{"firebreak:incident": "inc-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ProcessedFindings) != 1 || aws.ToString(out.ProcessedFindings[0].Id) != sshFindingID {
		t.Errorf("processed %+v, want the SSH finding", out.ProcessedFindings)
	}
	var codes []string
	for _, u := range out.UnprocessedFindings {
		codes = append(codes, aws.ToString(u.FindingIdentifier.Id)+":"+aws.ToString(u.ErrorCode))
	}
	slices.Sort(codes)
	if diff := cmp.Diff([]string{sshFindingID + ":DuplicatedFindingIdentifier", "nope:FindingNotFound"}, codes); diff != "" {
		t.Errorf("unprocessed (-want +got):\n%s", diff)
	}

	after := getOne(t, c, sshFindingID)
	if after.Workflow.Status != shtypes.WorkflowStatusNotified || after.WorkflowState != shtypes.WorkflowStateAssigned {
		t.Errorf("workflow %s / %s, want NOTIFIED / ASSIGNED", after.Workflow.Status, after.WorkflowState)
	}
	if after.Note == nil || aws.ToString(after.Note.Text) != "Firebreak isolated the instance." || aws.ToString(after.Note.UpdatedBy) != "firebreak" || aws.ToString(after.Note.UpdatedAt) == "" {
		t.Errorf("note %+v", after.Note)
	}
	if after.UserDefinedFields["firebreak:incident"] != "inc-1" {
		t.Errorf("user-defined fields %v", after.UserDefinedFields)
	}
	if aws.ToString(after.UpdatedAt) == aws.ToString(before.UpdatedAt) {
		t.Errorf("UpdatedAt unchanged (%s)", aws.ToString(after.UpdatedAt))
	}

	// A provider's update of the same finding keeps the customer's workflow
	// and note.
	re := sandbox.GuardDutyASFF{Account: hubAccount, Region: hubRegion, DetectorID: hubDetector, FindingID: "5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
		Type: "UnauthorizedAccess:EC2/SSHBruteForce", Title: "seen again", Description: "d", Severity: 5, InstanceID: hubWeb1,
		CreatedAt: sb.Now(), UpdatedAt: sb.Now(), Count: 2}
	if err := sb.ImportSecurityHubFinding(hubAccount, hubRegion, re.ASFF()); err != nil {
		t.Fatal(err)
	}
	again := getOne(t, c, sshFindingID)
	if aws.ToString(again.Title) != "seen again" || again.Workflow.Status != shtypes.WorkflowStatusNotified || aws.ToString(again.Note.Text) != "Firebreak isolated the instance." {
		t.Errorf("after re-import: title %q workflow %s note %+v", aws.ToString(again.Title), again.Workflow.Status, again.Note)
	}

	hist, err := c.GetFindingHistory(ctx, &securityhub.GetFindingHistoryInput{FindingIdentifier: &ssh})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range hist.Records {
		e := string(r.UpdateSource.Type)
		if aws.ToBool(r.FindingCreated) {
			e += " created"
		}
		for _, u := range r.Updates {
			if aws.ToString(u.UpdatedField) == "Workflow.Status" || aws.ToString(u.UpdatedField) == "Note.Text" {
				e += fmt.Sprintf(" %s:%s->%s", aws.ToString(u.UpdatedField), aws.ToString(u.OldValue), aws.ToString(u.NewValue))
			}
		}
		events = append(events, e)
	}
	want := []string{
		"BATCH_IMPORT_FINDINGS created",
		"BATCH_UPDATE_FINDINGS Workflow.Status:NEW->NOTIFIED Note.Text:->Firebreak isolated the instance.",
		"BATCH_IMPORT_FINDINGS",
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func getOne(t *testing.T, c *securityhub.Client, id string) shtypes.AwsSecurityFinding {
	t.Helper()
	out, err := c.GetFindings(context.Background(), &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{Id: []shtypes.StringFilter{hubEq(id)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 1 {
		t.Fatalf("%d findings with id %s, want 1", len(out.Findings), id)
	}
	return out.Findings[0]
}

func TestSecurityHubBatchUpdateErrors(t *testing.T) {
	ctx := context.Background()
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	ssh := []shtypes.AwsSecurityFindingIdentifier{{Id: aws.String(sshFindingID), ProductArn: aws.String(gdProduct)}}
	for _, tt := range []struct {
		name string
		in   *securityhub.BatchUpdateFindingsInput
		want string
	}{
		{"note too long", &securityhub.BatchUpdateFindingsInput{FindingIdentifiers: ssh, Note: &shtypes.NoteUpdate{Text: aws.String(strings.Repeat("x", 513)), UpdatedBy: aws.String("firebreak")}}, "Note.Text"},
		{"bad workflow", &securityhub.BatchUpdateFindingsInput{FindingIdentifiers: ssh, Workflow: &shtypes.WorkflowUpdate{Status: "DONE"}}, "Workflow.Status"},
		{"nothing to update", &securityhub.BatchUpdateFindingsInput{FindingIdentifiers: ssh}, "At least one"},
		{"bad severity", &securityhub.BatchUpdateFindingsInput{FindingIdentifiers: ssh, Severity: &shtypes.SeverityUpdate{Label: "URGENT"}}, "Severity.Label"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.BatchUpdateFindings(ctx, tt.in)
			if code := errorCode(err); code != "InvalidInputException" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want InvalidInputException naming %s", err, tt.want)
			}
		})
	}
	if f := getOne(t, c, sshFindingID); f.Workflow.Status != shtypes.WorkflowStatusNew || f.Note != nil {
		t.Errorf("a refused update changed the finding: %s %+v", f.Workflow.Status, f.Note)
	}
}

func TestSecurityHubNotEnabled(t *testing.T) {
	ctx := context.Background()
	sb := hubSandbox(t)
	admin := hubClient(t, sb, sandboxtest.Admin(t, sb))
	hub, err := admin.DescribeHub(ctx, &securityhub.DescribeHubInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:securityhub:us-east-1:111111111111:hub/default"; aws.ToString(hub.HubArn) != want {
		t.Errorf("hub %s, want %s", aws.ToString(hub.HubArn), want)
	}
	other := hubClient(t, sb, sandboxtest.User(t, sb, "222222222222", "auditor"))
	_, err = other.DescribeHub(ctx, &securityhub.DescribeHubInput{})
	var ia *shtypes.InvalidAccessException
	if !errors.As(err, &ia) || !strings.Contains(err.Error(), "not subscribed") {
		t.Errorf("DescribeHub: %v, want InvalidAccessException (not subscribed)", err)
	}
	_, err = other.GetFindings(ctx, &securityhub.GetFindingsInput{})
	if !errors.As(err, &ia) {
		t.Errorf("GetFindings: %v, want InvalidAccessException", err)
	}
	g := sandbox.GuardDutyASFF{Account: "222222222222", Region: hubRegion, DetectorID: hubDetector, FindingID: "8ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d8",
		Type: "Recon:EC2/PortProbeUnprotectedPort", Title: "t", Description: "d", Severity: 2, InstanceID: "i-0123456789abcdef0", CreatedAt: sb.Now()}
	if err := sb.ImportSecurityHubFinding("222222222222", hubRegion, g.ASFF()); !errors.Is(err, sandbox.ErrSecurityHubNotEnabled) {
		t.Errorf("ImportSecurityHubFinding into a disabled hub: %v, want ErrSecurityHubNotEnabled", err)
	}
}

func TestImportSecurityHubFinding(t *testing.T) {
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	g := sandbox.GuardDutyASFF{Account: hubAccount, Region: hubRegion, DetectorID: hubDetector, FindingID: "9ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d9",
		Type: "Backdoor:EC2/C&CActivity.B", Title: "C&C", Description: "web-2 talks to a C&C server", Severity: 8, InstanceID: hubWeb2, CreatedAt: sb.Now()}
	if err := sb.ImportSecurityHubFinding(hubAccount, hubRegion, g.ASFF()); err != nil {
		t.Fatal(err)
	}
	id := "arn:aws:guardduty:us-east-1:111111111111:detector/" + hubDetector + "/finding/9ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d9"
	f := getOne(t, c, id)
	if f.Severity.Label != shtypes.SeverityLabelHigh || aws.ToString(f.ProductName) != "GuardDuty" {
		t.Errorf("severity %s product %s", f.Severity.Label, aws.ToString(f.ProductName))
	}
	bad := g.ASFF()
	delete(bad, "Title")
	if err := sb.ImportSecurityHubFinding(hubAccount, hubRegion, bad); err == nil || !strings.Contains(err.Error(), "'Title'") {
		t.Errorf("finding without a title: %v", err)
	}
	if err := sb.ImportSecurityHubFinding("222222222223", hubRegion, g.ASFF()); err == nil {
		t.Error("a finding of another account was imported")
	}
	// A finding about neither an instance nor a key, with the least
	// GuardDuty gives, still imports, naming the account.
	bare := sandbox.GuardDutyASFF{Account: hubAccount, Region: hubRegion, DetectorID: hubDetector, FindingID: "0ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d0", Type: "Policy:S3/BucketBlockPublicAccessDisabled", Severity: 2}
	if err := sb.ImportSecurityHubFinding(hubAccount, hubRegion, bare.ASFF()); err != nil {
		t.Fatal(err)
	}
	if r := getOne(t, c, strings.Replace(id, "9ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d9", "0ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d0", 1)).Resources; len(r) != 1 || aws.ToString(r[0].Type) != "Other" || aws.ToString(r[0].Id) != "AWS::::Account:"+hubAccount {
		t.Errorf("resources of a finding about the account: %+v", r)
	}
	found := false
	for _, h := range sb.SecurityHubFindings(hubAccount, hubRegion) {
		if h.ASFF["Id"] == id {
			found = len(h.History) == 1 && h.History[0].Created && h.History[0].Identity == "guardduty.amazonaws.com"
		}
	}
	if !found {
		t.Error("SecurityHubFindings does not show the imported finding with its creation")
	}
}

// TestSecurityHubConcurrent imports, updates and reads findings from
// several clients at once (run with -race).
func TestSecurityHubConcurrent(t *testing.T) {
	sb := hubSandbox(t)
	c := hubClient(t, sb, sandboxtest.Admin(t, sb))
	ssh := shtypes.AwsSecurityFindingIdentifier{Id: aws.String(sshFindingID), ProductArn: aws.String(gdProduct)}
	errs := make(chan error, 24)
	for i := range 8 {
		go func() {
			_, err := c.BatchImportFindings(context.Background(), &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{customFinding(fmt.Sprintf("race-%d", i))}})
			errs <- err
		}()
		go func() {
			_, err := c.BatchUpdateFindings(context.Background(), &securityhub.BatchUpdateFindingsInput{FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{ssh},
				Note: &shtypes.NoteUpdate{Text: aws.String(fmt.Sprintf("note %d", i)), UpdatedBy: aws.String("test")}})
			errs <- err
		}()
		go func() {
			_, err := c.GetFindings(context.Background(), &securityhub.GetFindingsInput{})
			errs <- err
		}()
	}
	for range 24 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(hubIDs(t, c, &shtypes.AwsSecurityFindingFilters{Id: []shtypes.StringFilter{hubSF(shtypes.StringFilterComparisonPrefix, "race-")}})); got != 8 {
		t.Errorf("%d race- findings, want 8", got)
	}
	if f := getOne(t, c, sshFindingID); !strings.HasPrefix(aws.ToString(f.Note.Text), "note ") {
		t.Errorf("note %q", aws.ToString(f.Note.Text))
	}
}
