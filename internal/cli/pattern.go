package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/pattern"
)

func newPatternCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "pattern",
		Short:   "Test EventBridge event patterns against events",
		Example: "  firebreak pattern test --pattern rules.json event.json",
	}
	cmd.AddCommand(newPatternTestCmd(e))
	return cmd
}

func newPatternTestCmd(e *env) *cobra.Command {
	var files []string
	var explain bool
	cmd := &cobra.Command{
		Use:   "test --pattern FILE... EVENT_FILE... | -",
		Short: "Print, for each event, the names of the patterns that match it",
		Long: strings.TrimSpace(`
Load EventBridge patterns from each --pattern FILE and print, for every
event in each EVENT_FILE (or standard input, "-"), the names of the
patterns that match it.

A pattern file holds either one pattern, named after the file
("root-login.json" is the pattern "root-login"), or a JSON object whose
values are patterns, keyed by name. It is one pattern when any top-level
value is an array, or any top-level key is "$or" or an EventBridge envelope
field (version, id, detail-type, source, account, time, region, resources,
detail); otherwise it is a set of named patterns.

Events are read the way Firebreak receives them: an EventBridge event is
matched as given; other shapes (a bare GuardDuty finding, a CloudTrail
record or log file, an SQS or SNS message) are first put in the
EventBridge envelope AWS would deliver. Input that is no AWS event shape
but is a JSON object is matched as given.

Exit status: 0 when at least one event matched a pattern, 1 when none did,
2 on errors.`),
		Example: "  " + strings.TrimSpace(`
  firebreak pattern test --pattern root-login.json internal/samples/data/cloudtrail/record-consolelogin-root-*.json
  firebreak pattern test --pattern rules.json --explain finding.json
  cat event.json | firebreak pattern test --pattern rules.json -`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(files) == 0 {
				return &exitError{code: 2, err: errors.New("pattern test: give at least one --pattern FILE")}
			}
			m := pattern.NewMatcher()
			all := map[string]*pattern.Pattern{}
			origin := map[string]string{}
			for _, f := range files {
				ps, err := loadPatternFile(f)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				for name, p := range ps {
					if prev, ok := origin[name]; ok {
						return &exitError{code: 2, err: fmt.Errorf("%s: pattern %q is also defined in %s", f, name, prev)}
					}
					origin[name] = f
					all[name] = p
				}
			}
			m.AddParsed(all)
			matchedAny := false
			var names []string
			for _, path := range args {
				evs, err := loadEvents(path, e.stdin)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				for i, ev := range evs {
					label := path
					if len(evs) > 1 {
						label = fmt.Sprintf("%s[%d]", path, i)
					}
					names, err = m.Match(ev, names[:0])
					if err != nil {
						return &exitError{code: 2, err: fmt.Errorf("%s: %w", label, err)}
					}
					if len(names) > 0 {
						matchedAny = true
						fmt.Fprintf(e.stdout, "%s: %s\n", label, strings.Join(names, " "))
						continue
					}
					fmt.Fprintf(e.stdout, "%s: no match\n", label)
					if explain {
						for _, name := range m.Names() {
							why, err := m.Explain(ev, name)
							if err != nil {
								return &exitError{code: 2, err: fmt.Errorf("%s: %w", label, err)}
							}
							for _, line := range strings.Split(why, "\n") {
								fmt.Fprintf(e.stdout, "  %s: %s\n", name, line)
							}
						}
					}
				}
			}
			if !matchedAny {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&files, "pattern", nil, "pattern file: one pattern, or an object of name: pattern (repeatable)")
	cmd.Flags().BoolVar(&explain, "explain", false, "for an event no pattern matches, say which field of each pattern failed and why")
	return cmd
}

// envelopeKeys are the top-level fields of an EventBridge event; a pattern
// file using any of them as a key is one pattern, not a set.
var envelopeKeys = map[string]bool{
	"version": true, "id": true, "detail-type": true, "source": true, "account": true,
	"time": true, "region": true, "resources": true, "detail": true, "$or": true,
}

// loadPatternFile reads a file holding one pattern or an object of named
// patterns (see the command's help for how they are told apart).
func loadPatternFile(path string) (map[string]*pattern.Pattern, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: %s", path, jsonProblem(data, err))
	}
	single := len(top) == 0
	for k, v := range top {
		if envelopeKeys[k] || bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) {
			single = true
		}
	}
	if single {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		p, err := pattern.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return map[string]*pattern.Pattern{name: p}, nil
	}
	names := make([]string, 0, len(top))
	for k := range top {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]*pattern.Pattern{}
	for _, name := range names {
		p, err := pattern.Parse(top[name])
		if err != nil {
			return nil, fmt.Errorf("%s: pattern %q: %w", path, name, err)
		}
		out[name] = p
	}
	return out, nil
}

// jsonProblem describes a JSON decoding error with its line and column.
func jsonProblem(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the offending byte; point at it.
		line, col := lineCol(data, max(int(se.Offset)-1, 0))
		return fmt.Sprintf("%d:%d: invalid JSON: %v", line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "want a JSON object of a pattern, or of named patterns"
	}
	return err.Error()
}

func lineCol(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// loadEvents reads the events of a file ("-": standard input) as
// EventBridge JSON documents.
func loadEvents(path string, stdin io.Reader) ([][]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, event.DefaultMaxBytes+1))
		if err == nil && len(data) > event.DefaultMaxBytes {
			err = fmt.Errorf("standard input: more than %d bytes", event.DefaultMaxBytes)
		}
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	evs, derr := event.Decode(data)
	valid := json.Valid(data)
	if derr != nil || (valid && len(evs) == 1 && evs[0].Shape == event.ShapeEventBridge) {
		// An EventBridge event, or JSON of no AWS shape: match as given.
		if !valid {
			var v any
			return nil, fmt.Errorf("%s: %s", path, jsonProblem(data, json.Unmarshal(data, &v)))
		}
		return [][]byte{data}, nil
	}
	out := make([][]byte, len(evs))
	for i, ev := range evs {
		out[i] = ev.EventBridgeJSON()
	}
	return out, nil
}
