package sandbox_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	hubWeb1 = "i-0bbbbbbbbbbbbbbb1"
	hubWeb2 = "i-0bbbbbbbbbbbbbbb2"
)

// hubSandbox starts the sandbox of testdata/securityhub-world.yaml.
func hubSandbox(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/securityhub-world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sandboxtest.New(t, sandbox.Options{Seed: 9, World: w})
}

func inspectorClient(t testing.TB, sb *sandbox.Sandbox, creds sandbox.Credentials) *inspector2.Client {
	return inspector2.NewFromConfig(sandboxtest.Config(t, sb, creds))
}

func eq(v string) i2types.StringFilter {
	return i2types.StringFilter{Comparison: i2types.StringComparisonEquals, Value: aws.String(v)}
}

func sf(c i2types.StringComparison, v string) i2types.StringFilter {
	return i2types.StringFilter{Comparison: c, Value: aws.String(v)}
}

// vulns lists the vulnerability ids (or the type, for findings without
// one) of every finding ListFindings returns for fc, all pages.
func vulns(t *testing.T, c *inspector2.Client, fc *i2types.FilterCriteria, sort *i2types.SortCriteria) []string {
	t.Helper()
	var out []string
	p := inspector2.NewListFindingsPaginator(c, &inspector2.ListFindingsInput{FilterCriteria: fc, SortCriteria: sort, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Findings) > 2 {
			t.Fatalf("page of %d findings, asked for 2", len(page.Findings))
		}
		for _, f := range page.Findings {
			if d := f.PackageVulnerabilityDetails; d != nil {
				out = append(out, aws.ToString(d.VulnerabilityId))
			} else {
				out = append(out, string(f.Type))
			}
		}
	}
	return out
}

func TestInspectorListFindingsFilters(t *testing.T) {
	sb := hubSandbox(t)
	c := inspectorClient(t, sb, sandboxtest.Admin(t, sb))
	for _, tt := range []struct {
		name string
		fc   *i2types.FilterCriteria
		want []string // sorted
	}{
		{"everything", nil, []string{"CVE-2021-3156", "CVE-2022-1292", "CVE-2023-38408", "CVE-2024-3094", "CVE-2024-6387", "NETWORK_REACHABILITY"}},
		{"one instance", &i2types.FilterCriteria{ResourceId: []i2types.StringFilter{eq(hubWeb1)}},
			[]string{"CVE-2021-3156", "CVE-2022-1292", "CVE-2023-38408", "CVE-2024-6387", "NETWORK_REACHABILITY"}},
		{"active on the instance", &i2types.FilterCriteria{ResourceId: []i2types.StringFilter{eq(hubWeb1)}, FindingStatus: []i2types.StringFilter{eq("ACTIVE")}},
			[]string{"CVE-2022-1292", "CVE-2023-38408", "CVE-2024-6387", "NETWORK_REACHABILITY"}},
		{"critical anywhere", &i2types.FilterCriteria{Severity: []i2types.StringFilter{eq("CRITICAL")}}, []string{"CVE-2024-3094", "CVE-2024-6387"}},
		{"critical or high (filters OR'ed)", &i2types.FilterCriteria{Severity: []i2types.StringFilter{eq("CRITICAL"), eq("HIGH")}},
			[]string{"CVE-2023-38408", "CVE-2024-3094", "CVE-2024-6387"}},
		{"vulnerability prefix", &i2types.FilterCriteria{VulnerabilityId: []i2types.StringFilter{sf(i2types.StringComparisonPrefix, "CVE-2024-")}}, []string{"CVE-2024-3094", "CVE-2024-6387"}},
		{"not the first instance", &i2types.FilterCriteria{ResourceId: []i2types.StringFilter{sf(i2types.StringComparisonNotEquals, hubWeb1)}}, []string{"CVE-2024-3094"}},
		{"network reachability", &i2types.FilterCriteria{FindingType: []i2types.StringFilter{eq("NETWORK_REACHABILITY")}}, []string{"NETWORK_REACHABILITY"}},
		{"exploitable on web-1", &i2types.FilterCriteria{ResourceId: []i2types.StringFilter{eq(hubWeb1)}, ExploitAvailable: []i2types.StringFilter{eq("YES")}},
			[]string{"CVE-2022-1292", "CVE-2024-6387"}},
		{"no fix", &i2types.FilterCriteria{FixAvailable: []i2types.StringFilter{eq("NO")}, FindingType: []i2types.StringFilter{eq("PACKAGE_VULNERABILITY")}}, []string{"CVE-2022-1292"}},
		{"score 7 to 9", &i2types.FilterCriteria{InspectorScore: []i2types.NumberFilter{{LowerInclusive: aws.Float64(7), UpperInclusive: aws.Float64(9)}}}, []string{"CVE-2023-38408"}},
		{"resource type", &i2types.FilterCriteria{ResourceType: []i2types.StringFilter{eq("AWS_LAMBDA_FUNCTION")}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := vulns(t, c, tt.fc, nil)
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInspectorListFindingsSortAndShape(t *testing.T) {
	sb := hubSandbox(t)
	c := inspectorClient(t, sb, sandboxtest.Admin(t, sb))
	fc := &i2types.FilterCriteria{ResourceId: []i2types.StringFilter{eq(hubWeb1)}, FindingType: []i2types.StringFilter{eq("PACKAGE_VULNERABILITY")}}
	got := vulns(t, c, fc, &i2types.SortCriteria{Field: i2types.SortFieldSeverity, SortOrder: i2types.SortOrderDesc})
	want := []string{"CVE-2024-6387", "CVE-2023-38408", "CVE-2022-1292", "CVE-2021-3156"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("by severity, most severe first (-want +got):\n%s", diff)
	}
	got = vulns(t, c, fc, &i2types.SortCriteria{Field: i2types.SortFieldInspectorScore, SortOrder: i2types.SortOrderAsc})
	slices.Reverse(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("by score, lowest first (-want +got):\n%s", diff)
	}

	out, err := c.ListFindings(context.Background(), &inspector2.ListFindingsInput{FilterCriteria: &i2types.FilterCriteria{VulnerabilityId: []i2types.StringFilter{eq("CVE-2024-6387")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 1 {
		t.Fatalf("%d findings for CVE-2024-6387, want 1", len(out.Findings))
	}
	f := out.Findings[0]
	inst, _ := sb.EC2Instance("111111111111", "us-east-1", hubWeb1)
	d := f.Resources[0].Details.AwsEc2Instance
	pkg := f.PackageVulnerabilityDetails.VulnerablePackages[0]
	for _, c := range []struct{ what, got, want string }{
		{"arn", aws.ToString(f.FindingArn)[:len("arn:aws:inspector2:us-east-1:111111111111:finding/")], "arn:aws:inspector2:us-east-1:111111111111:finding/"},
		{"account", aws.ToString(f.AwsAccountId), "111111111111"},
		{"type", string(f.Type), "PACKAGE_VULNERABILITY"},
		{"severity", string(f.Severity), "CRITICAL"},
		{"status", string(f.Status), "ACTIVE"},
		{"exploit", string(f.ExploitAvailable), "YES"},
		{"fix", string(f.FixAvailable), "YES"},
		{"resource type", string(f.Resources[0].Type), "AWS_EC2_INSTANCE"},
		{"resource id", aws.ToString(f.Resources[0].Id), hubWeb1},
		{"image", aws.ToString(d.ImageId), inst.Image},
		{"subnet", aws.ToString(d.SubnetId), inst.Subnet},
		{"profile", aws.ToString(d.IamInstanceProfileArn), inst.InstanceProfileARN},
		{"package", aws.ToString(pkg.Name), "openssh-server"},
		{"fixed in", aws.ToString(pkg.FixedInVersion), "1:8.9p1-3ubuntu0.10"},
		{"title", aws.ToString(f.Title), "CVE-2024-6387 - openssh-server"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if s := aws.ToFloat64(f.InspectorScore); s != 9.8 {
		t.Errorf("inspectorScore = %v, want 9.8", s)
	}
	if first := aws.ToTime(f.FirstObservedAt); sb.Now().Sub(first).Hours() < 239 {
		t.Errorf("firstObservedAt = %v, want 240h before %v", first, sb.Now())
	}
}

func TestInspectorErrors(t *testing.T) {
	ctx := context.Background()
	sb := hubSandbox(t)
	c := inspectorClient(t, sb, sandboxtest.Admin(t, sb))
	for _, tt := range []struct {
		name string
		in   *inspector2.ListFindingsInput
		want string
	}{
		{"criterion the sandbox does not apply", &inspector2.ListFindingsInput{FilterCriteria: &i2types.FilterCriteria{LambdaFunctionName: []i2types.StringFilter{eq("f")}}}, "lambdaFunctionName"},
		{"bad comparison", &inspector2.ListFindingsInput{FilterCriteria: &i2types.FilterCriteria{Severity: []i2types.StringFilter{sf("LIKE", "HIGH")}}}, "severity[0].comparison"},
		{"max results", &inspector2.ListFindingsInput{MaxResults: aws.Int32(500)}, "maxResults"},
		{"bad token", &inspector2.ListFindingsInput{NextToken: aws.String("bogus")}, "nextToken"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ListFindings(ctx, tt.in)
			if code := errorCode(err); code != "ValidationException" {
				t.Fatalf("error %v, want ValidationException", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}

	t.Run("not enabled", func(t *testing.T) {
		other := inspectorClient(t, sb, sandboxtest.User(t, sb, "222222222222", "auditor"))
		_, err := other.ListFindings(ctx, &inspector2.ListFindingsInput{})
		if code := errorCode(err); code != "AccessDeniedException" {
			t.Fatalf("error %v, want AccessDeniedException", err)
		}
		_, err = other.ListCoverage(ctx, &inspector2.ListCoverageInput{})
		if code := errorCode(err); code != "AccessDeniedException" {
			t.Fatalf("ListCoverage error %v, want AccessDeniedException", err)
		}
	})
}

func TestInspectorListCoverage(t *testing.T) {
	sb := hubSandbox(t)
	c := inspectorClient(t, sb, sandboxtest.Admin(t, sb))
	var got []string
	p := inspector2.NewListCoveragePaginator(c, &inspector2.ListCoverageInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.CoveredResources {
			if r.ScanStatus == nil || r.ScanStatus.StatusCode != i2types.ScanStatusCodeActive {
				t.Errorf("%s: scan status %+v, want ACTIVE", aws.ToString(r.ResourceId), r.ScanStatus)
			}
			got = append(got, aws.ToString(r.ResourceId))
		}
	}
	if diff := cmp.Diff([]string{hubWeb1, hubWeb2, "i-0bbbbbbbbbbbbbbb3"}, got); diff != "" {
		t.Errorf("covered (-want +got):\n%s", diff)
	}
	out, err := c.ListCoverage(context.Background(), &inspector2.ListCoverageInput{FilterCriteria: &i2types.CoverageFilterCriteria{
		ResourceId: []i2types.CoverageStringFilter{{Comparison: i2types.CoverageStringComparisonEquals, Value: aws.String(hubWeb2)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CoveredResources) != 1 || aws.ToString(out.CoveredResources[0].ResourceId) != hubWeb2 {
		t.Errorf("coverage of %s: %+v", hubWeb2, out.CoveredResources)
	}
}

// TestInspectorSecurityHubWorldErrors loads each testdata/inspector-errors
// and testdata/securityhub-errors world and compares the error with the
// .err file next to it (see checkWorldErrorGolden).
func TestInspectorSecurityHubWorldErrors(t *testing.T) {
	var files []string
	for _, dir := range []string{"testdata/inspector-errors", "testdata/securityhub-errors"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 6 {
		t.Fatalf("only %d error fixtures", len(files))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) { checkWorldErrorGolden(t, file) })
	}
}
