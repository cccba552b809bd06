package guardrail_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// The property: whatever the playbook, event, protected sets and
// identities, a changing action is denied exactly when one of its targets
// (or what it leads to: a key's owner) is Firebreak itself, is protected,
// or cannot be resolved. The oracle below decides from the generated
// world's ground truth with its own glob matcher (regexp based), not with
// the guardrail's code.

// chooser makes choices from bytes: a fuzz input, or random bytes for the
// property test. Past the end it always chooses 0.
type chooser struct {
	b []byte
	i int
}

func (c *chooser) intn(n int) int {
	if n <= 1 {
		return 0
	}
	var v int
	for k := 0; k < 2; k++ {
		v <<= 8
		if c.i < len(c.b) {
			v |= int(c.b[c.i])
			c.i++
		}
	}
	return v % n
}

func (c *chooser) chance(percent int) bool { return c.intn(100) < percent }

func pick[T any](c *chooser, xs []T) T { return xs[c.intn(len(xs))] }

// genEntity is a user or role of a generated world.
type genEntity struct {
	account, kind, name, path string
	tags                      map[string]string
}

func (e genEntity) arn() string {
	return "arn:aws:iam::" + e.account + ":" + e.kind + e.path + e.name
}

func (e genEntity) pathlessARN() string {
	return "arn:aws:iam::" + e.account + ":" + e.kind + "/" + e.name
}

// genInstance is an EC2 instance of a generated world, in the hub
// account's us-east-1.
type genInstance struct {
	id   string
	role string // the role of its instance profile, if any
	tags map[string]string
}

// genWorld is a generated world and its ground truth.
type genWorld struct {
	w         world
	entities  []genEntity
	instances []genInstance
	keys      map[string]sandbox.KeyInfo // by id
	keyIDs    []string
	self      guardrail.Identity // the responder, as it signs
	// focus are the entities the current scenario's rules name; steps
	// target them often, so that the rules are exercised.
	focus []genEntity
}

var (
	userPool = []string{"alice", "bob", "ci-deploy", "break-glass-1", "break-glass-ops", "svc-backup", "dana", "eve", "auditor"}
	rolePool = []string{"web-app", "OrganizationAccountAccessRole", "payments", "ci-role", "audit", "AWSReservedSSO_Admin"}
	pathPool = []string{"/", "/ops/", "/team/web/"}
	tagPool  = [][2]string{{"firebreak:protected", "true"}, {"firebreak:protected", "false"}, {"team", "web"}, {"team", "security"}, {"owner", "x@acme.example"}}
)

func genTags(c *chooser) map[string]string {
	tags := map[string]string{}
	for range c.intn(3) {
		t := pick(c, tagPool)
		tags[t[0]] = t[1]
	}
	return tags
}

// newGenWorld generates and starts a world from c.
func newGenWorld(t testing.TB, c *chooser) *genWorld {
	t.Helper()
	gw := &genWorld{keys: map[string]sandbox.KeyInfo{}}
	var y strings.Builder
	y.WriteString("accounts:\n")
	for _, acct := range []string{hub, member} {
		fmt.Fprintf(&y, "  - id: %q\n    users:\n", acct)
		if acct == hub {
			y.WriteString("      - {name: responder, admin: true, managed_policies: [arn:aws:iam::aws:policy/AdministratorAccess], keys: [{}, {}]}\n")
			gw.entities = append(gw.entities, genEntity{account: acct, kind: "user", name: "responder", path: "/", tags: map[string]string{}})
		}
		used := map[string]bool{"responder": true}
		for range 2 + c.intn(5) {
			name := pick(c, userPool)
			if used[name] {
				continue
			}
			used[name] = true
			e := genEntity{account: acct, kind: "user", name: name, path: pick(c, pathPool), tags: genTags(c)}
			gw.entities = append(gw.entities, e)
			fmt.Fprintf(&y, "      - name: %s\n        path: %s\n        keys: [{}]\n        tags: {", name, e.path)
			for k, v := range e.tags {
				fmt.Fprintf(&y, "%q: %q, ", k, v)
			}
			y.WriteString("}\n")
		}
		y.WriteString("    roles:\n      - {name: FirebreakResponder, trust_accounts: [\"111111111111\"], managed_policies: [arn:aws:iam::aws:policy/AdministratorAccess], instance_profile: FirebreakResponder-profile}\n")
		gw.entities = append(gw.entities, genEntity{account: acct, kind: "role", name: "FirebreakResponder", path: "/", tags: map[string]string{}})
		var profiles []string // role names with an instance profile
		if acct == hub {
			profiles = append(profiles, "FirebreakResponder")
		}
		used = map[string]bool{}
		for range 1 + c.intn(4) {
			name := pick(c, rolePool)
			if used[name] {
				continue
			}
			used[name] = true
			e := genEntity{account: acct, kind: "role", name: name, path: pick(c, pathPool), tags: genTags(c)}
			gw.entities = append(gw.entities, e)
			fmt.Fprintf(&y, "      - name: %s\n        path: %s\n        trust_services: [ec2.amazonaws.com]\n        instance_profile: %s-profile\n        tags: {", name, e.path, name)
			for k, v := range e.tags {
				fmt.Fprintf(&y, "%q: %q, ", k, v)
			}
			y.WriteString("}\n")
			if acct == hub {
				profiles = append(profiles, name)
			}
		}
		if acct != hub {
			continue
		}
		y.WriteString("    ec2:\n      instances:\n")
		for i := range 2 + c.intn(5) {
			in := genInstance{id: fmt.Sprintf("i-0b00000000000%04x", i), tags: genTags(c)}
			if c.chance(70) {
				in.role = pick(c, profiles)
			}
			gw.instances = append(gw.instances, in)
			fmt.Fprintf(&y, "        - id: %s\n", in.id)
			if in.role != "" {
				fmt.Fprintf(&y, "          instance_profile: %s-profile\n", in.role)
			}
			y.WriteString("          tags: {")
			for k, v := range in.tags {
				fmt.Fprintf(&y, "%q: %q, ", k, v)
			}
			y.WriteString("}\n")
		}
	}
	wf, err := sandbox.ParseWorld("generated.yaml", []byte(y.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, y.String())
	}
	sb, err := sandbox.New(sandbox.Options{World: wf, Seed: uint64(c.intn(1 << 16)), NoLookupThrottle: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	gw.w = world{sb: sb}
	for _, k := range sb.Keys() {
		gw.keys[k.AccessKeyID] = k
		gw.keyIDs = append(gw.keyIDs, k.AccessKeyID)
	}
	creds, err := sb.UserCredentials(hub, "responder")
	if err != nil {
		t.Fatal(err)
	}
	gw.self = guardrail.Identity{Account: hub, ARN: "arn:aws:iam::111111111111:user/responder", UserName: "responder", AccessKeyID: creds.AccessKeyID}
	return gw
}

// scenario is one generated configuration with its identities.
type scenario struct {
	cfg    guardrail.Config
	selves []guardrail.Identity
}

func (gw *genWorld) genScenario(c *chooser) scenario {
	s := scenario{selves: []guardrail.Identity{gw.self}}
	gw.focus = gw.focus[:0]
	entity := func() genEntity {
		e := pick(c, gw.entities)
		gw.focus = append(gw.focus, e)
		return e
	}
	if c.chance(40) { // Firebreak also runs as another user somewhere
		e := entity()
		if e.kind == "user" {
			id := guardrail.Identity{Account: e.account, ARN: e.arn(), UserName: e.name}
			for _, k := range gw.keyIDs {
				if gw.keys[k].UserName == e.name && gw.keys[k].Account == e.account {
					id.AccessKeyID = k
				}
			}
			s.selves = append(s.selves, id)
		}
	}
	if c.chance(60) { // and as a role
		e := entity()
		if e.kind == "role" {
			s.selves = append(s.selves, guardrail.Identity{Account: e.account, ARN: "arn:aws:sts::" + e.account + ":assumed-role/" + e.name + "/fb",
				RoleName: e.name, RoleARN: e.pathlessARN()})
		}
	}
	principalGlobs := []func() string{
		func() string { return entity().arn() },
		func() string { return entity().pathlessARN() },
		func() string { return entity().pathlessARN() },
		func() string { return "arn:aws:iam::*:user/break-glass-*" },
		func() string { return "arn:aws:iam::*:role/*Access*" },
		func() string { return "arn:aws:iam::" + pick(c, []string{hub, member}) + ":user/*" },
		func() string { return "arn:aws:iam::*:root" },
		func() string { return "arn:aws:iam::*:*/ops/*" },
		func() string { e := entity(); return "arn:aws:iam::*:" + e.kind + "/" + e.name[:1] + "?" + "*" },
	}
	for range c.intn(4) {
		s.cfg.Protected.Principals = append(s.cfg.Protected.Principals, pick(c, principalGlobs)())
	}
	tagRules := []guardrail.Tag{{Key: "firebreak:protected", Value: "true"}, {Key: "team", Value: "w*"}, {Key: "owner", Value: "*"}, {Key: "firebreak:protected", Value: "*"}}
	for range c.intn(3) {
		s.cfg.Protected.Tags = append(s.cfg.Protected.Tags, pick(c, tagRules))
	}
	resourceGlobs := []func() string{
		func() string { return pick(c, gw.keyIDs) },
		func() string { return pick(c, gw.keyIDs)[:6] + "*" },
		func() string { return entity().name },
		func() string { return "*ops*" },
		func() string {
			if len(gw.instances) == 0 {
				return "i-none"
			}
			return pick(c, gw.instances).id
		},
		func() string { return "arn:aws:ec2:*:111111111111:instance/i-0b*1" },
	}
	for range c.intn(3) {
		s.cfg.Protected.Resources = append(s.cfg.Protected.Resources, pick(c, resourceGlobs)())
	}
	return s
}

var propKinds = []action.TargetKind{action.TargetUser, action.TargetRole, action.TargetAccessKey, action.TargetPrincipalARN, action.TargetInstance}

// genStep generates an action and its parameters, as a playbook and an
// event might produce them: mostly real names, sometimes wrong ones.
func (gw *genWorld) genStep(c *chooser, n int) guardrail.Step {
	m := action.Meta{ID: fmt.Sprintf("aws.iam.generated_%d", n), Summary: "generated", Idempotency: action.Idempotent, IAM: []string{"iam:UpdateAccessKey"}}
	m.Risk = pick(c, []action.Risk{action.Reversible, action.ReadOnly, action.Reversible, action.Destructive})
	if c.chance(50) { // changes roles: an instance's role is checked in full
		m.IAM = []string{"iam:PutRolePolicy"}
	} else {
		m.IAM = []string{"ec2:ModifyInstanceAttribute"}
	}
	vs := action.Values{}
	for i := range 1 + c.intn(2) {
		kind := pick(c, propKinds)
		p := action.Param{Name: fmt.Sprintf("p%d", i), Type: action.String, Doc: "d", Target: kind}
		value := func() string { return gw.genValue(c, kind) }
		if c.chance(25) {
			p.Type = action.StringList
			var l []string
			for range c.intn(3) {
				l = append(l, value())
			}
			vs[p.Name] = action.ListValue(l)
		} else if !c.chance(5) { // sometimes the param is absent
			vs[p.Name] = action.StringValue(value())
		}
		m.Params = append(m.Params, p)
	}
	acct := hub
	if c.chance(25) {
		acct = member
	}
	return guardrail.Step{Playbook: "generated", Action: m, Params: vs, Target: action.Target{Account: acct, Region: region}}
}

func (gw *genWorld) genValue(c *chooser, kind action.TargetKind) string {
	if c.chance(7) {
		return pick(c, []string{"nobody", "AKIAZZZZZZZZZZZZZZZZ", "arn:aws:iam::111111111111:user/nobody", "arn:aws:s3:::bucket", ""})
	}
	entities := gw.entities
	if len(gw.focus) > 0 && c.chance(50) {
		entities = gw.focus
	}
	switch kind {
	case action.TargetInstance:
		if len(gw.instances) == 0 || c.chance(5) {
			return "i-0123456789abcdef0"
		}
		return pick(c, gw.instances).id
	case action.TargetAccessKey:
		return pick(c, gw.keyIDs)
	case action.TargetPrincipalARN:
		e := pick(c, entities)
		switch c.intn(4) {
		case 0:
			return e.pathlessARN()
		case 1:
			if e.kind == "role" {
				return "arn:aws:sts::" + e.account + ":assumed-role/" + e.name + "/s1"
			}
		case 2:
			return "arn:aws:iam::" + e.account + ":root"
		}
		return e.arn()
	}
	return pick(c, entities).name
}

// oracleGlob matches like the documented globs, through a regexp.
func oracleGlob(pattern, s string) bool {
	var re strings.Builder
	re.WriteString(`^(?s)`)
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(`.*`)
		case '?':
			re.WriteString(`.`)
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString(`$`)
	return regexp.MustCompile(re.String()).MatchString(s)
}

// oracle says whether the step must be denied, and why.
func (gw *genWorld) oracle(sc scenario, s guardrail.Step) (bool, string) {
	if s.Action.Risk == action.ReadOnly {
		return false, "read-only"
	}
	type value struct {
		kind action.TargetKind
		v    string
	}
	var vals []value
	for _, p := range s.Action.Params {
		pv, ok := s.Params[p.Name]
		switch {
		case !ok:
		case pv.Kind() == action.KindString:
			vals = append(vals, value{p.Target, pv.Str()})
		default:
			for _, v := range pv.List() {
				vals = append(vals, value{p.Target, v})
			}
		}
	}
	if len(vals) == 0 {
		return true, "no target"
	}
	for _, tv := range vals {
		if deny, why := gw.oracleValue(sc, s.Target.Account, tv.kind, tv.v, slices.Contains(s.Action.IAM, "iam:PutRolePolicy")); deny {
			return true, why
		}
	}
	return false, "nothing protected"
}

func (gw *genWorld) find(account, kind, name string) (genEntity, bool) {
	for _, e := range gw.entities {
		if e.account == account && e.kind == kind && e.name == name {
			return e, true
		}
	}
	return genEntity{}, false
}

func (gw *genWorld) oracleValue(sc scenario, account string, kind action.TargetKind, v string, roleAffecting bool) (bool, string) {
	anyGlob := func(globs []string, ss ...string) bool {
		for _, g := range globs {
			for _, s := range ss {
				if oracleGlob(g, s) {
					return true
				}
			}
		}
		return false
	}
	entity := func(e genEntity, extraARNs ...string) (bool, string) {
		arns := append([]string{e.arn(), e.pathlessARN()}, extraARNs...)
		for _, id := range sc.selves {
			if e.kind == "user" && id.UserName == e.name && id.Account == e.account {
				return true, "self user"
			}
			if e.kind == "role" && id.RoleName == e.name {
				return true, "self role"
			}
		}
		if anyGlob(sc.cfg.Protected.Principals, arns...) {
			return true, "principal glob"
		}
		for _, t := range sc.cfg.Protected.Tags {
			if tv, ok := e.tags[t.Key]; ok && oracleGlob(t.Value, tv) {
				return true, "tag"
			}
		}
		if anyGlob(sc.cfg.Protected.Resources, append([]string{e.name}, arns...)...) {
			return true, "resource glob"
		}
		return false, ""
	}
	if strings.TrimSpace(v) == "" {
		return true, "empty target"
	}
	switch kind {
	case action.TargetInstance:
		i := slices.IndexFunc(gw.instances, func(in genInstance) bool { return in.id == v })
		if i < 0 || account != hub {
			return true, "unresolvable instance " + v
		}
		in := gw.instances[i]
		for _, t := range sc.cfg.Protected.Tags {
			if tv, ok := in.tags[t.Key]; ok && oracleGlob(t.Value, tv) {
				return true, "instance tag"
			}
		}
		if anyGlob(sc.cfg.Protected.Resources, in.id, "arn:aws:ec2:us-east-1:"+hub+":instance/"+in.id) {
			return true, "instance resource glob"
		}
		if in.role == "" {
			return false, ""
		}
		for _, id := range sc.selves {
			if id.RoleName == in.role {
				return true, "instance runs as Firebreak"
			}
		}
		if !roleAffecting {
			return false, ""
		}
		e, _ := gw.find(hub, "role", in.role)
		return entity(e)
	case action.TargetUser, action.TargetRole:
		e, ok := gw.find(account, string(kind), v)
		if !ok {
			return true, "unresolvable " + v
		}
		return entity(e)
	case action.TargetAccessKey:
		k, ok := gw.keys[v]
		if !ok || k.Account != account {
			return true, "unresolvable key " + v
		}
		for _, id := range sc.selves {
			if id.AccessKeyID == v {
				return true, "self key"
			}
		}
		if anyGlob(sc.cfg.Protected.Resources, v) {
			return true, "key resource glob"
		}
		e, _ := gw.find(account, "user", k.UserName)
		return entity(e)
	case action.TargetPrincipalARN:
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 || parts[2] != "iam" && parts[2] != "sts" {
			return true, "not a principal ARN"
		}
		acct, res := parts[4], parts[5]
		switch {
		case parts[2] == "iam" && res == "root":
			for _, id := range sc.selves {
				if id.ARN == v {
					return true, "self root"
				}
			}
			if anyGlob(sc.cfg.Protected.Principals, v) || anyGlob(sc.cfg.Protected.Resources, v) {
				return true, "root glob"
			}
			return false, ""
		case parts[2] == "sts":
			role := strings.Split(strings.TrimPrefix(res, "assumed-role/"), "/")[0]
			e, ok := gw.find(acct, "role", role)
			if !ok {
				return true, "unresolvable " + v
			}
			return entity(e, v)
		}
		kind, rest, _ := strings.Cut(res, "/")
		name := rest[strings.LastIndex(rest, "/")+1:]
		e, ok := gw.find(acct, kind, name)
		if !ok {
			return true, "unresolvable " + v
		}
		return entity(e, v)
	}
	return true, "unknown kind"
}

// checkProperty runs one scenario's steps and reports every disagreement
// with the oracle. It returns how many steps were denied and allowed.
func checkProperty(t *testing.T, gw *genWorld, c *chooser, steps int) (denied, allowed int) {
	t.Helper()
	sc := gw.genScenario(c)
	clients := newResponderClients(t, gw.w)
	g, err := guardrail.New(sc.cfg, guardrail.Options{Self: sc.selves, Clients: clients})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for i := range steps {
		s := gw.genStep(c, i)
		d := g.Check(context.Background(), s)
		mustDeny, why := gw.oracle(sc, s)
		switch {
		case mustDeny && d.Verdict != guardrail.Deny:
			t.Errorf("PROTECTED TARGET ALLOWED: %s %v in %s: verdict %s (%s: %s); oracle: deny (%s)\nconfig: %+v\nselves: %+v",
				s.Action.ID, s.Params, s.Target.Account, d.Verdict, d.Rule, d.Reason, why, sc.cfg.Protected, sc.selves)
		case !mustDeny && d.Verdict != guardrail.Allow:
			t.Errorf("over-refusal: %s %v in %s: verdict %s (%s: %s); oracle: allow (%s)\nconfig: %+v",
				s.Action.ID, s.Params, s.Target.Account, d.Verdict, d.Rule, d.Reason, why, sc.cfg.Protected)
		}
		if d.Verdict == guardrail.Deny {
			denied++
		} else {
			allowed++
		}
	}
	return denied, allowed
}

func TestNeverAllowsProtected(t *testing.T) {
	const worlds, scenarios, steps = 4, 25, 12
	rng := rand.New(rand.NewPCG(20261122, 5))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	var denied, allowed int
	for range worlds {
		gw := newGenWorld(t, &chooser{b: random(64)})
		for range scenarios {
			d, a := checkProperty(t, gw, &chooser{b: random(1024)}, steps)
			denied, allowed = denied+d, allowed+a
		}
	}
	// The generator must exercise both sides, or the test proves nothing.
	if total := denied + allowed; denied < total/5 || allowed < total/5 {
		t.Errorf("generated %d denied and %d allowed steps; want at least a fifth of each", denied, allowed)
	}
	t.Logf("%d steps denied, %d allowed", denied, allowed)
}

func FuzzNeverAllowsProtected(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("some bytes to choose a configuration and a few steps from"))
	f.Add([]byte{0xff, 0xfe, 0x01, 0x80, 0x7f, 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0})
	gw := newGenWorld(f, &chooser{b: []byte("a fixed world for the whole fuzzing run, with several users and roles in it")})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkProperty(t, gw, &chooser{b: b}, 4)
	})
}
