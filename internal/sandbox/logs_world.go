package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// logsWorld is an account's "logs" section of the world file:
//
//	logs:
//	  region: us-east-1            # default: the account's first region
//	  groups:
//	    - name: /ec2/i-0abc/auth
//	      retention_days: 30
//	      streams:
//	        - name: i-0abc
//	          events:
//	            - {time: -25m, message: "... sshd[812]: Failed password for root from 203.0.113.66 port 50122 ssh2", repeat: 40, interval: 2s}
//	            - {time: "2026-11-23T00:10:00Z", message: "..."}
//
// An event's time is an RFC 3339 time or an offset from the sandbox clock
// at seed time ("-25m", "-1h30m"); empty is the seed time. repeat writes the
// event that many times, interval apart (default 1s).
type logsWorld struct {
	Region string           `yaml:"region"`
	Groups []logsWorldGroup `yaml:"groups"`
}

type logsWorldGroup struct {
	Name          string            `yaml:"name"`
	RetentionDays int32             `yaml:"retention_days"`
	Streams       []logsWorldStream `yaml:"streams"`
}

type logsWorldStream struct {
	Name   string           `yaml:"name"`
	Events []logsWorldEvent `yaml:"events"`
}

type logsWorldEvent struct {
	Time     string `yaml:"time"`
	Message  string `yaml:"message"`
	Repeat   int    `yaml:"repeat"`
	Interval string `yaml:"interval"`
}

// Seed creates an account's log groups, streams and events from its "logs"
// section.
func (s *logsService) Seed(acct *Account, section *yaml.Node) error {
	if section == nil {
		return nil
	}
	var w logsWorld
	if err := DecodeStrict(section, &w); err != nil {
		return err
	}
	region := sectionRegion(acct, w.Region)
	if len(acct.Regions) > 0 && !slices.Contains(acct.Regions, region) {
		return NodeError(ec2Child(section, "region"), "region: %q is not one of the account's regions %v", region, acct.Regions)
	}
	now := s.sb.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(acct.ID, region)
	groupsNode := ec2Child(section, "groups")
	for i, g := range w.Groups {
		gn := ec2Item(groupsNode, i)
		field := fmt.Sprintf("groups[%d]", i)
		if g.Name == "" {
			return NodeError(gn, "%s.name: required", field)
		}
		if err := checkLogGroupName("name", g.Name); err != nil {
			return NodeError(ec2Child(gn, "name"), "%s.name: %q is not a log group name (1-512 of A-Z a-z 0-9 . - _ / #)", field, g.Name)
		}
		if r.groups[g.Name] != nil {
			return NodeError(ec2Child(gn, "name"), "%s.name: duplicate log group %q", field, g.Name)
		}
		if g.RetentionDays != 0 && !slices.Contains(logsRetentionDays, g.RetentionDays) {
			return NodeError(ec2Child(gn, "retention_days"), "%s.retention_days: %d is not one of %v", field, g.RetentionDays, logsRetentionDays)
		}
		group := &logGroup{name: g.Name, created: logsMillis(now), retention: g.RetentionDays, streams: map[string]*logStream{}}
		r.groups[g.Name] = group
		streamsNode := ec2Child(gn, "streams")
		for j, sw := range g.Streams {
			sn := ec2Item(streamsNode, j)
			sf := fmt.Sprintf("%s.streams[%d]", field, j)
			if sw.Name == "" {
				return NodeError(sn, "%s.name: required", sf)
			}
			if err := checkLogStreamName("name", sw.Name); err != nil {
				return NodeError(ec2Child(sn, "name"), "%s.name: %q is not a log stream name (1-512 characters, no : or *)", sf, sw.Name)
			}
			if group.streams[sw.Name] != nil {
				return NodeError(ec2Child(sn, "name"), "%s.name: duplicate log stream %q", sf, sw.Name)
			}
			st := &logStream{name: sw.Name, created: logsMillis(now)}
			group.streams[sw.Name] = st
			eventsNode := ec2Child(sn, "events")
			for k, ev := range sw.Events {
				en := ec2Item(eventsNode, k)
				ef := fmt.Sprintf("%s.events[%d]", sf, k)
				if ev.Message == "" {
					return NodeError(en, "%s.message: required", ef)
				}
				at, ok := logsWorldTime(ev.Time, now)
				if !ok {
					return NodeError(ec2Child(en, "time"), "%s.time: %q is neither an RFC 3339 time nor an offset from now (-25m)", ef, ev.Time)
				}
				if ev.Repeat < 0 || ev.Repeat > 100000 {
					return NodeError(ec2Child(en, "repeat"), "%s.repeat: %d is not between 0 and 100000", ef, ev.Repeat)
				}
				step := time.Second
				if ev.Interval != "" {
					d, err := time.ParseDuration(ev.Interval)
					if err != nil || d <= 0 {
						return NodeError(ec2Child(en, "interval"), "%s.interval: %q is not a positive duration (2s)", ef, ev.Interval)
					}
					step = d
				}
				n := max(ev.Repeat, 1)
				for x := range n {
					s.appendEvent(st, logsMillis(at.Add(time.Duration(x)*step)), logsMillis(now), ev.Message)
				}
			}
		}
	}
	return nil
}

// logsWorldTime reads an event time: RFC 3339, or a signed offset from now.
func logsWorldTime(s string, now time.Time) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), true
	}
	return time.Time{}, false
}
