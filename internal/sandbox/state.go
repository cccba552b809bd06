package sandbox

import (
	"fmt"
)

// state is everything Reset rebuilds.
type state struct {
	accounts []*Account
	services []Service
	infos    []ServiceInfo
	// bySigning lists services by signing name, in registration order.
	bySigning map[string][]int

	// The core's own services, reached directly.
	iam        *iamService
	sqs        *sqsService
	cloudtrail *cloudtrailService
	ses        *sesService

	trail *trail
	bus   *bus
}

func (sb *Sandbox) build() (*state, error) {
	w := sb.opts.World
	st := &state{bySigning: map[string][]int{}, trail: &trail{cap: sb.opts.TrailCapacity}, bus: newBus(w)}
	for _, a := range w.Accounts {
		st.accounts = append(st.accounts, &Account{ID: a.ID, Alias: a.Alias, Regions: a.Regions})
	}
	names := map[string]bool{}
	for _, newService := range builtinServices {
		svc := newService(sb)
		info := svc.Info()
		if info.SigningName == "" || info.Protocol == 0 {
			return nil, fmt.Errorf("sandbox: service %T has no signing name or protocol", svc)
		}
		if names[info.name()] {
			return nil, fmt.Errorf("sandbox: service %q registered twice", info.name())
		}
		names[info.name()] = true
		st.bySigning[info.SigningName] = append(st.bySigning[info.SigningName], len(st.services))
		st.services = append(st.services, svc)
		st.infos = append(st.infos, info)
		switch s := svc.(type) {
		case *iamService:
			st.iam = s
		case *sqsService:
			st.sqs = s
		case *cloudtrailService:
			st.cloudtrail = s
		case *sesService:
			st.ses = s
		}
	}
	// The core looks up the state through sb.st while seeding (services call
	// sb methods), so seed into a state that is installed first.
	sb.mu.Lock()
	old := sb.st
	sb.st = st
	sb.mu.Unlock()
	err := sb.seed(st, w)
	if err != nil {
		sb.mu.Lock()
		sb.st = old
		sb.mu.Unlock()
		return nil, err
	}
	return st, nil
}

func (sb *Sandbox) seed(st *state, w *World) error {
	st.iam.mu.Lock()
	err := st.iam.seed(w)
	st.iam.mu.Unlock()
	if err != nil {
		return err
	}
	st.sqs.mu.Lock()
	for _, a := range w.Accounts {
		for _, q := range a.Queues {
			region := orDefault(q.Region, a.Regions[0])
			if _, err := st.sqs.createQueue(a.ID, region, q.Name, q.Attributes); err != nil {
				st.sqs.mu.Unlock()
				return fmt.Errorf("%s: account %s: queue %s: %v", w.file, a.ID, q.Name, err)
			}
		}
	}
	// The events queue always exists.
	if len(w.Accounts) > 0 {
		a := w.Accounts[0]
		if _, err := st.sqs.createQueue(a.ID, a.Regions[0], w.Events.Queue, nil); err != nil {
			st.sqs.mu.Unlock()
			return fmt.Errorf("%s: events.queue: %v", w.file, err)
		}
	}
	st.sqs.mu.Unlock()
	for i, svc := range st.services {
		seeder, ok := svc.(Seeder)
		if !ok {
			continue
		}
		for j := range w.Accounts {
			section := w.Accounts[j].section(st.infos[i].name())
			if section == nil {
				continue
			}
			if section.Kind == 0 {
				section = nil
			}
			if err := seeder.Seed(st.accounts[j], section); err != nil {
				return fmt.Errorf("%s:%w", w.file, prefixPos(err))
			}
		}
	}
	for i := range w.Accounts {
		for _, name := range sectionNames {
			section := w.Accounts[i].section(name)
			if section.Kind != 0 && !st.hasSeeder(name) {
				return fmt.Errorf("%s:%d:%d: accounts[%d].%s: this build of the sandbox does not simulate %s", w.file, section.Line, section.Column, i, name, name)
			}
		}
	}
	return nil
}

func (st *state) hasSeeder(name string) bool {
	for i, svc := range st.services {
		if _, ok := svc.(Seeder); ok && st.infos[i].name() == name {
			return true
		}
	}
	return false
}

func (st *state) close() {
	st.bus.close()
}
