package playbook

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/event"
)

// The CEL views of event.Subjects, with the field names playbooks use
// (subjects.access_keys[0].user_name). They mirror internal/event.

type accessKey struct {
	ID       string `cel:"id"`
	UserName string `cel:"user_name"`
	Account  string `cel:"account"`
}

type user struct {
	Name    string `cel:"name"`
	ARN     string `cel:"arn"`
	Account string `cel:"account"`
	Type    string `cel:"type"`
}

type role struct {
	Name        string `cel:"name"`
	ARN         string `cel:"arn"`
	SessionName string `cel:"session_name"`
	Account     string `cel:"account"`
}

type instance struct {
	ID      string `cel:"id"`
	Account string `cel:"account"`
	Region  string `cel:"region"`
}

type bucket struct {
	Name       string   `cel:"name"`
	ObjectKeys []string `cel:"object_keys"`
}

type remoteIP struct {
	IP       string `cel:"ip"`
	Port     int64  `cel:"port"`
	Protocol string `cel:"protocol"`
	Country  string `cel:"country"`
	Org      string `cel:"org"`
}

type subjects struct {
	AccessKeys []accessKey `cel:"access_keys"`
	Users      []user      `cel:"users"`
	Roles      []role      `cel:"roles"`
	Instances  []instance  `cel:"instances"`
	Buckets    []bucket    `cel:"buckets"`
	RemoteIPs  []remoteIP  `cel:"remote_ips"`
}

type incidentView struct {
	ID         string `cel:"id"`
	Count      int64  `cel:"count"`
	SeenBefore bool   `cel:"seen_before"`
}

// The CEL names of the object types above, as NativeTypes derives them.
const (
	subjectsType = "playbook.subjects"
	incidentType = "playbook.incidentView"
	stepsType    = "firebreak.steps"
)

// triggerEnv is the environment of the playbook's when and dedup: the
// event alone.
var triggerEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(reflect.TypeFor[subjects](), reflect.TypeFor[incidentView](), ext.ParseStructTags(true)),
		ext.Strings(),
		ext.Network(),
		cel.CrossTypeNumericComparisons(true),
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("subjects", cel.ObjectType(subjectsType)),
		cel.Variable("severity", cel.DoubleType),
		cel.Variable("finding_type", cel.StringType),
		cel.Variable("finding_id", cel.StringType),
		cel.Variable("account", cel.StringType),
		cel.Variable("region", cel.StringType),
		cel.Function("ip_in_cidr",
			cel.Overload("ip_in_cidr_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(ipInCIDR))),
	)
})

// stepEnv adds what steps see: the incident and earlier steps' outputs.
var stepEnv = sync.OnceValues(func() (*cel.Env, error) {
	base, err := triggerEnv()
	if err != nil {
		return nil, err
	}
	return base.Extend(cel.Variable("incident", cel.ObjectType(incidentType)))
})

func ipInCIDR(ipVal, cidrVal ref.Val) ref.Val {
	ip, err := netip.ParseAddr(fmt.Sprint(ipVal.Value()))
	if err != nil {
		return types.NewErr("ip_in_cidr: %q is not an IP address", ipVal.Value())
	}
	prefix, err := netip.ParsePrefix(fmt.Sprint(cidrVal.Value()))
	if err != nil {
		return types.NewErr("ip_in_cidr: %q is not a CIDR range", cidrVal.Value())
	}
	return types.Bool(prefix.Contains(ip.Unmap()))
}

// celType is the CEL type of an action value type.
func celType(t action.Type) *cel.Type {
	switch t.Kind() {
	case action.KindInt:
		return cel.IntType
	case action.KindBool:
		return cel.BoolType
	case action.KindDuration:
		return cel.DurationType
	case action.KindStringList:
		return cel.ListType(cel.StringType)
	}
	return cel.StringType
}

// stepsProvider declares, for one playbook, the object types behind
// steps.<id>.output.<field>: one field per step, typed by the action's
// declared outputs. Everything else goes to the wrapped provider.
type stepsProvider struct {
	types.Provider
	fields map[string]map[string]*types.FieldType // type name → field → type
}

func stepType(id string) string   { return "firebreak.step." + id }
func outputType(id string) string { return "firebreak.output." + id }

// withSteps declares steps for the given steps (those without for_each).
func withSteps(steps []*Step) cel.EnvOption {
	return func(e *cel.Env) (*cel.Env, error) {
		p := &stepsProvider{Provider: e.CELTypeProvider(), fields: map[string]map[string]*types.FieldType{stepsType: {}}}
		for _, s := range steps {
			id := s.id
			p.fields[stepsType][id] = &types.FieldType{
				Type: types.NewObjectType(stepType(id)),
				IsSet: func(obj any) bool {
					in, ok := obj.(*Input)
					if !ok {
						return false
					}
					_, ok = in.output(id)
					return ok
				},
				GetFrom: func(obj any) (any, error) {
					in, ok := obj.(*Input)
					if !ok {
						return nil, fmt.Errorf("steps.%s: not a step", id)
					}
					out, ok := in.output(id)
					if !ok {
						return nil, fmt.Errorf("step %s has no output: it did not run", id)
					}
					return out, nil
				},
			}
			p.fields[stepType(id)] = map[string]*types.FieldType{"output": {
				Type:    types.NewObjectType(outputType(id)),
				IsSet:   func(any) bool { return true },
				GetFrom: func(obj any) (any, error) { return obj, nil },
			}}
			outs := map[string]*types.FieldType{}
			for _, f := range s.meta.Outputs {
				name := f.Name
				outs[name] = &types.FieldType{
					Type: celType(f.Type),
					IsSet: func(obj any) bool {
						vs, _ := obj.(action.Values)
						_, ok := vs[name]
						return ok
					},
					GetFrom: func(obj any) (any, error) {
						vs, _ := obj.(action.Values)
						v, ok := vs[name]
						if !ok {
							return nil, fmt.Errorf("step %s returned no output %s", id, name)
						}
						return v.Native(), nil
					},
				}
			}
			p.fields[outputType(id)] = outs
		}
		return cel.CustomTypeProvider(p)(e)
	}
}

func (p *stepsProvider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.fields[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Provider.FindStructType(name)
}

func (p *stepsProvider) FindStructFieldNames(name string) ([]string, bool) {
	fs, ok := p.fields[name]
	if !ok {
		return p.Provider.FindStructFieldNames(name)
	}
	names := make([]string, 0, len(fs))
	for n := range fs {
		names = append(names, n)
	}
	return names, true
}

func (p *stepsProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	fs, ok := p.fields[name]
	if !ok {
		return p.Provider.FindStructFieldType(name, field)
	}
	ft, ok := fs[field]
	return ft, ok
}

// Incident is what a run knows about its incident.
type Incident struct {
	ID         string
	Count      int  // how many events this incident has seen, this one included
	SeenBefore bool // an earlier incident had the same key, user, instance or IP
}

// Input is what a plan's expressions evaluate against: one event, its
// incident, and the outputs of the steps that have run so far. Steps of a
// parallel block may record outputs concurrently.
type Input struct {
	event       map[string]any
	subjects    subjects
	severity    float64
	findingType string
	findingID   string
	account     string
	region      string
	incident    incidentView

	mu      sync.RWMutex
	outputs map[string]action.Values
}

// NewInput prepares evt for evaluation. The detail is decoded once, here.
func NewInput(evt *event.Event, inc Incident) (*Input, error) {
	var detail any = map[string]any{}
	if len(evt.Detail) > 0 {
		if err := json.Unmarshal(evt.Detail, &detail); err != nil {
			return nil, fmt.Errorf("playbook input: event %s: detail: %w", evt.ID, err)
		}
	}
	resources := make([]any, len(evt.Resources))
	for i, r := range evt.Resources {
		resources[i] = r
	}
	in := &Input{
		event: map[string]any{
			"version": "0", "id": evt.ID, "source": evt.Source, "detail-type": evt.DetailType,
			"account": evt.Account, "region": evt.Region, "time": evt.Time.UTC().Format(time.RFC3339),
			"resources": resources, "detail": detail,
		},
		severity:    evt.Severity.Score,
		findingType: evt.FindingType,
		findingID:   evt.FindingID,
		account:     evt.Account,
		region:      evt.Region,
		incident:    incidentView{ID: inc.ID, Count: int64(inc.Count), SeenBefore: inc.SeenBefore},
		outputs:     map[string]action.Values{},
	}
	s := evt.Subjects
	for _, k := range s.AccessKeys {
		in.subjects.AccessKeys = append(in.subjects.AccessKeys, accessKey{ID: k.ID, UserName: k.UserName, Account: k.Account})
	}
	for _, u := range s.Users {
		in.subjects.Users = append(in.subjects.Users, user{Name: u.Name, ARN: u.ARN, Account: u.Account, Type: u.Type})
	}
	for _, r := range s.Roles {
		in.subjects.Roles = append(in.subjects.Roles, role{Name: r.Name, ARN: r.ARN, SessionName: r.SessionName, Account: r.Account})
	}
	for _, i := range s.Instances {
		in.subjects.Instances = append(in.subjects.Instances, instance{ID: i.ID, Account: i.Account, Region: i.Region})
	}
	for _, b := range s.Buckets {
		in.subjects.Buckets = append(in.subjects.Buckets, bucket{Name: b.Name, ObjectKeys: b.ObjectKeys})
	}
	for _, r := range s.RemoteIPs {
		ip := ""
		if r.IP.IsValid() {
			ip = r.IP.String()
		}
		in.subjects.RemoteIPs = append(in.subjects.RemoteIPs, remoteIP{
			IP: ip, Port: int64(r.Port), Protocol: r.Protocol, Country: r.Country, Org: r.Org,
		})
	}
	return in, nil
}

// SetOutput records what a step returned, for later steps to reference.
func (in *Input) SetOutput(step string, out action.Values) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.outputs[step] = out
}

// String keeps the input out of error messages: CEL prints values it
// cannot convert, and the event is no business of an error line.
func (in *Input) String() string { return "<steps>" }

func (in *Input) output(step string) (action.Values, bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	out, ok := in.outputs[step]
	return out, ok
}

// activation resolves the CEL variables from an Input, and item inside
// for_each.
type activation struct {
	in   *Input
	item ref.Val // nil outside for_each
}

func (a activation) ResolveName(name string) (any, bool) {
	switch name {
	case "event":
		return a.in.event, true
	case "subjects":
		return a.in.subjects, true
	case "severity":
		return a.in.severity, true
	case "finding_type":
		return a.in.findingType, true
	case "finding_id":
		return a.in.findingID, true
	case "account":
		return a.in.account, true
	case "region":
		return a.in.region, true
	case "incident":
		return a.in.incident, true
	case "steps":
		return a.in, true
	case "item":
		return a.item, a.item != nil
	}
	return nil, false
}

func (activation) Parent() interpreter.Activation { return nil }
