package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// Scenario is one story the demo tells: an attack, the event that
// reports it, and what containment means for it. Scenarios are listed in
// scenarios.go, one file each.
type Scenario struct {
	Name    string
	Summary string
	// Play runs the scenario in e, printing progress to p, and fills in
	// the Result's measurements.
	Play func(ctx context.Context, e *Env, p *Printer) (Result, error)
	// World is the sandbox's world for the scenario; nil is the default.
	World func() (*sandbox.World, error)
}

// Result is what one scenario showed; `firebreak demo --json` prints it.
type Result struct {
	Scenario   string `json:"scenario"`
	IncidentID string `json:"incident_id"`
	// Contained is true when the threat was contained (for exposed-key:
	// the key is inactive).
	Contained bool `json:"contained"`
	// ContainmentMS is from the event's publication to containment.
	ContainmentMS int64 `json:"containment_ms"`
	// AttackerBlockedMS is from the event's publication to the first
	// refused call of the attacker, who keeps polling; -1 when never.
	AttackerBlockedMS int64          `json:"attacker_blocked_ms"`
	Actions           []ActionResult `json:"actions"`
	TopCalls          []CallCount    `json:"top_calls"`
	AttackSucceeded   bool           `json:"attack_succeeded"`
	Persistence       []string       `json:"persistence"`
	Notifications     []Notification `json:"notifications"`
	// EC2 holds the EC2 scenarios' fields, printed next to the others;
	// nil for the other scenarios.
	EC2 *EC2Result `json:"-"`

	// The attack as the attacker saw it.
	Attack sandbox.ScenarioResult `json:"-"`
	// Report is the incident as the ledger has it.
	Report ledger.Report `json:"-"`
	// Emails are the sandbox's outbox after the response.
	Emails []sandbox.Email `json:"-"`
	// Outcome says whether the run finished or waits for a person.
	Outcome Outcome `json:"-"`
}

// MarshalJSON prints the common fields and, for an EC2 scenario, the
// EC2 fields next to them.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	b, err := json.Marshal(plain(r))
	if err != nil || r.EC2 == nil {
		return b, err
	}
	x, err := json.Marshal(r.EC2)
	if err != nil {
		return nil, err
	}
	return append(append(b[:len(b)-1], ','), x[1:]...), nil
}

// ActionResult is one step of the response.
type ActionResult struct {
	Step   string `json:"step"`
	Action string `json:"action"`
	Status string `json:"status"`
}

// CallCount is one line of the CloudTrail summary: an API and how often
// the key and its user called it.
type CallCount struct {
	API   string `json:"api"`
	Count int    `json:"count"`
}

// Notification is one message sent about the incident.
type Notification struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
}

// Options configure Run.
type Options struct {
	// Scenario selects one scenario by name; "" plays them all.
	Scenario string
	// Out receives the live progress; nil prints nothing.
	Out io.Writer
	// Seed makes the sandbox's ids deterministic; 0 is random.
	Seed uint64
	// Logger receives Firebreak's logs; nil discards.
	Logger *slog.Logger
	// Timeout bounds each scenario; 2m when 0.
	Timeout time.Duration
}

// ErrUnknownScenario is returned for a scenario name that is not listed.
var ErrUnknownScenario = errors.New("unknown scenario")

// Scenarios lists the scenarios, sorted by name.
func Scenarios() []Scenario { return append([]Scenario{}, scenarios...) }

// Find returns the scenario with the given name.
func Find(name string) (Scenario, error) {
	var names []string
	for _, s := range scenarios {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("%w %q (want one of %s)", ErrUnknownScenario, name, strings.Join(names, ", "))
}

// Run plays the selected scenarios, each in a fresh sandbox and app, and
// returns their results. A scenario that could not be played is an error;
// one that was played but not contained is a Result with Contained false.
func Run(ctx context.Context, o Options) ([]Result, error) {
	list := Scenarios()
	if o.Scenario != "" {
		s, err := Find(o.Scenario)
		if err != nil {
			return nil, err
		}
		list = []Scenario{s}
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	var out []Result
	for _, s := range list {
		res, err := play(ctx, s, o)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func play(ctx context.Context, s Scenario, o Options) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	p := NewPrinter(o.Out)
	p.Line("scenario %s: %s", s.Name, s.Summary)
	eo := EnvOptions{Seed: o.Seed, Logger: o.Logger}
	if s.World != nil {
		w, err := s.World()
		if err != nil {
			return Result{}, fmt.Errorf("demo %s: %w", s.Name, err)
		}
		eo.World = w
	}
	e, err := Start(ctx, eo)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = e.Close() }()
	p.Line("sandbox at %s, Firebreak reading %s", e.Sandbox.Endpoint(), e.Sandbox.EventsQueueURL())
	res, err := s.Play(ctx, e, p)
	res.Scenario = s.Name
	if err != nil {
		return res, fmt.Errorf("demo %s: %w", s.Name, err)
	}
	return res, nil
}

// fillFromReport sets the fields every scenario reads from the incident:
// its id, the actions, the CloudTrail summary, the verdict, and the
// notifications (the emails in the sandbox's outbox).
func (r *Result) fillFromReport(e *Env, rep ledger.Report) {
	r.Report = rep
	r.IncidentID = rep.Incident.ID
	r.Actions = []ActionResult{}
	r.TopCalls = []CallCount{}
	r.Persistence = []string{}
	r.Notifications = []Notification{}
	for _, run := range rep.Runs {
		for _, st := range run.Steps {
			step := st.StepID
			if st.Item > 0 {
				step += "[" + strconv.Itoa(st.Item) + "]"
			}
			r.Actions = append(r.Actions, ActionResult{Step: step, Action: st.Action, Status: string(st.Status)})
			if st.Status != ledger.StepSucceeded {
				continue
			}
			switch st.Action {
			case "aws.cloudtrail.summarize_principal":
				var out struct {
					TopCalls []string `json:"top_calls"`
				}
				if json.Unmarshal(st.Output, &out) == nil {
					for _, c := range out.TopCalls {
						if cc, ok := parseTopCall(c); ok {
							r.TopCalls = append(r.TopCalls, cc)
						}
					}
				}
			case "aws.investigate.attack_success":
				var out struct {
					Succeeded   bool     `json:"succeeded"`
					Persistence []string `json:"persistence"`
				}
				if json.Unmarshal(st.Output, &out) == nil {
					r.AttackSucceeded = out.Succeeded
					r.Persistence = append(r.Persistence, out.Persistence...)
				}
			}
		}
	}
	r.Emails = e.Sandbox.Outbox()
	for _, m := range r.Emails {
		for _, to := range m.To {
			r.Notifications = append(r.Notifications, Notification{Channel: "email", To: to})
		}
	}
}

var topCallRE = regexp.MustCompile(`^([a-z0-9][a-z0-9.-]*):([A-Za-z0-9]+) \((\d+)\)$`)

// parseTopCall reads "iam.amazonaws.com:CreateUser (3)" as iam:CreateUser,
// 3.
func parseTopCall(s string) (CallCount, bool) {
	m := topCallRE.FindStringSubmatch(s)
	if m == nil {
		return CallCount{}, false
	}
	n, err := strconv.Atoi(m[3])
	if err != nil {
		return CallCount{}, false
	}
	service, _, _ := strings.Cut(m[1], ".")
	return CallCount{API: service + ":" + m[2], Count: n}, true
}
