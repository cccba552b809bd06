package sandbox

import "fmt"

// state is everything Reset rebuilds.
type state struct {
	accounts []*Account
	services []Service
	infos    []ServiceInfo
	// bySigning lists services by signing name, in registration order.
	bySigning map[string][]int
}

func (sb *Sandbox) build() (*state, error) {
	st := &state{bySigning: map[string][]int{}}
	for _, a := range sb.opts.World.Accounts {
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
	}
	return st, nil
}

func (st *state) close() {}
