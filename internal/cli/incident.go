package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

func newIncidentCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "incident",
		Short:   "List and show incidents",
		Example: "  firebreak incident list --status open\n  firebreak incident show 0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f",
	}
	cmd.AddCommand(newIncidentListCmd(e), newIncidentShowCmd(e))
	return cmd
}

func newIncidentListCmd(e *env) *cobra.Command {
	var lf ledgerFlags
	var status, since, subject string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List incidents, most recently seen first",
		Example: strings.TrimSpace(`
  firebreak incident list
  firebreak incident list --status open --since 7d
  firebreak incident list --subject access_key=AKIAIOSFODNN7EXAMPLE --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := ledger.ListFilter{Status: ledger.IncidentStatus(status), Limit: limit}
			if since != "" {
				d, err := parseSince(since)
				if err != nil {
					return err
				}
				f.Since = time.Now().Add(-d)
			}
			if subject != "" {
				sub, err := parseSubject(subject)
				if err != nil {
					return err
				}
				f.Subject = &sub
			}
			s, err := lf.open(cmd)
			if err != nil {
				return err
			}
			defer func() { _ = s.Close() }()
			incs, err := s.ListIncidents(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(incs)
			}
			return writeIncidentList(e.stdout, incs)
		},
	}
	lf.add(cmd)
	cmd.Flags().StringVar(&status, "status", "", "only incidents in this status: open, contained, resolved or suppressed")
	cmd.Flags().StringVar(&since, "since", "", "only incidents seen within this long, such as 24h or 7d")
	cmd.Flags().StringVar(&subject, "subject", "", "only incidents involving this subject, as kind=value (kinds: access_key, bucket, instance, ip, role, user)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many incidents")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// parseSince reads a duration such as 90m, 24h or 7d.
func parseSince(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--since %q: want a positive duration such as 90m, 24h or 7d", s)
}

// parseSubject reads kind=value.
func parseSubject(s string) (ledger.Subject, error) {
	kind, value, ok := strings.Cut(s, "=")
	sub := ledger.Subject{Kind: ledger.SubjectKind(kind), Value: value}
	valid := false
	for _, k := range ledger.SubjectKinds {
		valid = valid || k == sub.Kind
	}
	switch {
	case !ok || value == "":
		return sub, fmt.Errorf("--subject %q: want kind=value, such as ip=198.51.100.7", s)
	case !valid:
		return sub, fmt.Errorf("--subject %q: unknown kind %q (want one of %v)", s, kind, ledger.SubjectKinds)
	}
	return sub, nil
}

func writeIncidentList(w io.Writer, incs []ledger.Incident) error {
	if len(incs) == 0 {
		_, err := fmt.Fprintln(w, "no incidents")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tCOUNT\tLAST SEEN\tPLAYBOOK\tTITLE")
	for _, inc := range incs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", inc.ID, inc.Status, incSeverity(inc), inc.Count,
			incStamp(inc.LastSeen), incDash(inc.Playbook), inc.Title)
	}
	return tw.Flush()
}

func newIncidentShowCmd(e *env) *cobra.Command {
	var lf ledgerFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident with its runs, approvals, decisions and evidence",
		Example: strings.TrimSpace(`
  firebreak incident show 0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f
  firebreak incident show 0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f --json`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := lf.open(cmd)
			if err != nil {
				return err
			}
			defer func() { _ = s.Close() }()
			r, err := s.Report(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			return writeReport(e.stdout, r)
		},
	}
	lf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON, events included")
	return cmd
}

func writeReport(w io.Writer, r ledger.Report) error {
	inc := r.Incident
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Incident %s [%s]\n", inc.ID, inc.Status)
	fmt.Fprintf(tw, "  Title:\t%s\n", incDash(inc.Title))
	fmt.Fprintf(tw, "  Severity:\t%s\n", incSeverity(inc))
	fmt.Fprintf(tw, "  Finding:\t%s %s\n", incDash(inc.Source), inc.FindingType)
	fmt.Fprintf(tw, "  Playbook:\t%s\n", incDash(inc.Playbook))
	fmt.Fprintf(tw, "  Account:\t%s %s\n", incDash(inc.Account), inc.Region)
	fmt.Fprintf(tw, "  Seen:\t%s, first %s, last %s\n", incTimes(inc.Count), incStamp(inc.FirstSeen), incStamp(inc.LastSeen))
	fmt.Fprintf(tw, "  Dedup key:\t%s\n", inc.DedupKey)
	if err := tw.Flush(); err != nil {
		return err
	}

	incSection(w, "Subjects", len(inc.Subjects))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range inc.Subjects {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Kind, s.Value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	incSection(w, "Seen before", len(r.SeenBefore))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range r.SeenBefore {
		var shared []string
		for _, s := range p.Shared {
			shared = append(shared, string(s.Kind)+"="+s.Value)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\tshared %s\n", p.Incident.ID, p.Incident.Status, incStamp(p.Incident.FirstSeen),
			incTimes(p.Incident.Count), p.Incident.Title, strings.Join(shared, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	incSection(w, "Runs", len(r.Runs))
	for _, run := range r.Runs {
		fmt.Fprintf(w, "  %s (run %s, started %s)\n", run.Playbook, run.ID, incStamp(run.Created))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, st := range run.Steps {
			name := st.StepID
			if st.Item > 0 {
				name += "[" + strconv.Itoa(st.Item) + "]"
			}
			fmt.Fprintf(tw, "    %s\t%s\tattempt %d\t%s\t%s\n", name, st.Status, st.Attempt, incDash(st.Action), incStamp(st.Updated))
			if st.Error != "" {
				fmt.Fprintf(tw, "      error: %s\n", st.Error) // no tab: not a column
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	incSection(w, "Approvals", len(r.Approvals))
	for _, a := range r.Approvals {
		fmt.Fprintf(w, "  %s: %s\n", incDash(a.Step.StepID), a.What)
		fmt.Fprintf(w, "    requested by %s at %s, expires %s", a.RequestedBy, incStamp(a.Requested), incStamp(a.Expires))
		if a.Why != "" {
			fmt.Fprintf(w, "; why: %s", a.Why)
		}
		fmt.Fprintln(w)
		if a.Decision == "" {
			fmt.Fprintln(w, "    pending")
			continue
		}
		fmt.Fprintf(w, "    %s by %s via %s at %s", incDecided(a.Decision), a.DecidedBy, a.Channel, incStamp(a.Decided))
		if a.Reason != "" {
			fmt.Fprintf(w, ": %s", a.Reason)
		}
		fmt.Fprintln(w)
	}

	incSection(w, "Guardrail decisions", len(r.Guardrails))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, d := range r.Guardrails {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", incDash(d.Step.StepID), d.Rule, d.Verdict, d.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	incSection(w, "Evidence", len(r.Evidence))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, ev := range r.Evidence {
		where := ev.URI
		if where == "" {
			where = fmt.Sprintf("inline, %d bytes", len(ev.Inline))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\tsha256 %s\n", incDash(ev.Step.StepID), ev.Kind, where, incDash(ev.SHA256))
	}
	return tw.Flush()
}

func incSection(w io.Writer, title string, n int) {
	if n == 0 {
		fmt.Fprintf(w, "\n%s: none\n", title)
		return
	}
	fmt.Fprintf(w, "\n%s (%d)\n", title, n)
}

func incSeverity(inc ledger.Incident) string {
	s := strconv.FormatFloat(inc.Severity, 'f', 1, 64)
	if inc.SeverityLabel != "" {
		s += " " + inc.SeverityLabel
	}
	return s
}

func incStamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func incDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func incDecided(d ledger.Decision) string {
	switch d {
	case ledger.Approve:
		return "approved"
	case ledger.Deny:
		return "denied"
	}
	return string(d)
}

func incTimes(n int64) string {
	if n == 1 {
		return "1 time"
	}
	return strconv.FormatInt(n, 10) + " times"
}
