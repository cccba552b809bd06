package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/event"
)

func newEventCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "event",
		Short:   "Decode and inspect AWS security events",
		Example: "  firebreak event inspect internal/samples/data/guardduty/*.json",
	}
	cmd.AddCommand(newEventInspectCmd(e))
	return cmd
}

func newEventInspectCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE... | -",
		Short: "Show the source, type, severity and subjects Firebreak reads from events",
		Long: strings.TrimSpace(`
Decode each FILE (or standard input, "-") in any shape AWS delivers events
in (EventBridge, SQS, SNS, PutEvents, bare GuardDuty, Macie, Security Hub
or Inspector2 findings, CloudTrail records and log files, gzipped or not)
and print what Firebreak extracts from every event in it. A file that does
not decode is reported on stderr and the others are still shown; the exit
status is then 1.`),
		Example: strings.TrimSpace(`
  firebreak event inspect internal/samples/data/*/*.json
  firebreak event inspect --json finding.json | jq .subjects
  aws sqs receive-message --queue-url "$Q" | firebreak event inspect -`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed, events := 0, 0
			for _, name := range args {
				evs, err := decodeFile(name, e.stdin)
				if err != nil {
					failed++
					fmt.Fprintf(e.stderr, "firebreak: %s: %v\n", name, err)
					continue
				}
				if asJSON {
					err = writeEventsJSON(e.stdout, name, evs)
				} else {
					err = writeEventsTable(e.stdout, name, evs)
				}
				if err != nil {
					return err
				}
				events += len(evs)
			}
			if !asJSON {
				fmt.Fprintf(e.stdout, "%d %s from %d of %d inputs\n", events, plural(events, "event", "events"), len(args)-failed, len(args))
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d inputs could not be decoded", failed, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event (JSON lines)")
	return cmd
}

// decodeFile decodes the events in a file, or in stdin for "-".
func decodeFile(name string, stdin io.Reader) ([]event.Event, error) {
	if name == "-" {
		return event.DecodeReader(stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return event.DecodeReader(f)
}

// inspected is one event as `event inspect --json` prints it.
type inspected struct {
	File             string         `json:"file"`
	Shape            event.Shape    `json:"shape"`
	ID               string         `json:"id"`
	Source           string         `json:"source"`
	DetailType       string         `json:"detail_type"`
	FindingType      string         `json:"finding_type"`
	FindingID        string         `json:"finding_id"`
	Severity         float64        `json:"severity"`
	SeverityLabel    string         `json:"severity_label"`
	SeverityOriginal string         `json:"severity_original"`
	Account          string         `json:"account"`
	Region           string         `json:"region"`
	Time             string         `json:"time"`
	Subjects         event.Subjects `json:"subjects"`
	Warnings         []string       `json:"warnings,omitempty"`
}

func writeEventsJSON(w io.Writer, name string, evs []event.Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, ev := range evs {
		err := enc.Encode(inspected{
			File:             name,
			Shape:            ev.Shape,
			ID:               ev.ID,
			Source:           ev.Source,
			DetailType:       ev.DetailType,
			FindingType:      ev.FindingType,
			FindingID:        ev.FindingID,
			Severity:         ev.Severity.Score,
			SeverityLabel:    ev.Severity.Label,
			SeverityOriginal: ev.Severity.Original,
			Account:          ev.Account,
			Region:           ev.Region,
			Time:             ev.Time.UTC().Format(time.RFC3339Nano),
			Subjects:         ev.Subjects,
			Warnings:         ev.Warnings,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// writeEventsTable prints one file's events as an aligned table under the
// file's name, with warnings after it.
func writeEventsTable(w io.Writer, name string, evs []event.Event) error {
	fmt.Fprintf(w, "%s: %d %s\n", name, len(evs), plural(len(evs), "event", "events"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SOURCE\tDETAIL-TYPE\tFINDING TYPE\tSEVERITY\tACCOUNT\tREGION\tTIME\tSUBJECTS")
	var warnings []string
	for _, ev := range evs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			orDash(ev.Source), orDash(clipHead(ev.DetailType, 40)), orDash(clipHead(ev.FindingType, 48)),
			strconv.FormatFloat(ev.Severity.Score, 'f', -1, 64)+" "+ev.Severity.Label,
			orDash(ev.Account), orDash(ev.Region), ev.Time.UTC().Format(time.RFC3339), compactSubjects(ev.Subjects))
		warnings = append(warnings, ev.Warnings...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, warn := range warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// clipHead shortens s to about n characters, keeping its end, which is
// the specific part of Security Hub's path-like types; it cuts at a slash
// when there is one to cut at.
func clipHead(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	tail := string(r[len(r)-n+1:])
	if i := strings.IndexByte(tail, '/'); i >= 0 && i < len(tail)-1 {
		tail = tail[i:]
	}
	return "…" + tail
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// compactSubjects lists subjects on one line: "key AKIA… (alice), user
// alice, role Admin/session, instance i-0abc, bucket b/key, ip
// 198.51.100.1:22/TCP (United States)".
func compactSubjects(s event.Subjects) string {
	var out []string
	for _, k := range s.AccessKeys {
		v := "key " + k.ID
		if k.UserName != "" {
			v += " (" + k.UserName + ")"
		}
		out = append(out, v)
	}
	for _, u := range s.Users {
		v := "user " + u.Name
		if u.Type == "Root" && u.Name != "root" {
			v += " (root)"
		}
		out = append(out, v)
	}
	for _, r := range s.Roles {
		v := "role " + r.Name
		if r.SessionName != "" {
			v += "/" + r.SessionName
		}
		out = append(out, v)
	}
	for _, in := range s.Instances {
		out = append(out, "instance "+in.ID)
	}
	for _, b := range s.Buckets {
		if len(b.ObjectKeys) == 0 {
			out = append(out, "bucket "+b.Name)
		}
		for _, k := range b.ObjectKeys {
			out = append(out, "object "+b.Name+"/"+k)
		}
	}
	for _, ip := range s.RemoteIPs {
		v := "ip " + ip.IP.String()
		if ip.Port != 0 {
			v += ":" + strconv.Itoa(ip.Port)
		}
		if ip.Protocol != "" {
			v += "/" + ip.Protocol
		}
		if ip.Country != "" {
			v += " (" + ip.Country + ")"
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
