package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// exposedKey is DESIGN.md's scenario 1: a developer's key leaks, an
// attacker looks around and plants a backdoor with it, AWS Health reports
// the key as exposed, and Firebreak disables it while the attacker is
// still polling.
var exposedKey = Scenario{
	Name:    "exposed-key",
	Summary: "a developer's access key leaks; the attacker does recon and persistence; AWS Health reports it exposed",
	Play:    playExposedKey,
}

// refusalGrace is how long the attacker keeps polling after the response
// finished before the demo stops waiting for a refusal.
const refusalGrace = 5 * time.Second

func playExposedKey(ctx context.Context, e *Env, p *Printer) (Result, error) {
	res := Result{AttackerBlockedMS: -1}
	attack, err := e.Sandbox.RunScenario(ctx, "persistence")
	if err != nil {
		return res, err
	}
	res.Attack = attack
	p.Line("attacker at %s uses the leaked key %s of %s:", attack.SourceIP, attack.AccessKeyID, keyOwner(e.Sandbox, attack.AccessKeyID))
	for _, s := range attack.Steps {
		status := "ok"
		if !s.OK {
			status = "refused: " + s.ErrorCode
		}
		p.Line("  %-24s %-28s %s", s.Call, s.Resource, status)
	}
	if attack.Finding != nil {
		p.Line("GuardDuty reports the attack's last calls too (no built-in playbook acts on that finding type)")
	}

	creds, err := e.Sandbox.KeyCredentials(attack.AccessKeyID)
	if err != nil {
		return res, err
	}
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	poller, err := e.StartPoller(watchCtx, creds, attack.SourceIP)
	if err != nil {
		return res, err
	}
	inactive := e.watchKey(watchCtx, attack.AccessKeyID)

	ev, t0, err := e.Publish(ctx, sandbox.Finding{Kind: sandbox.FindingHealthExposedKey, AccessKeyID: attack.AccessKeyID})
	if err != nil {
		return res, err
	}
	p.Zero(t0)
	p.Line("AWS Health AWS_RISK_CREDENTIALS_EXPOSED for %s published to the event queue; the attacker keeps polling", attack.AccessKeyID)

	contained := make(chan time.Time, 1)
	go func() {
		if at, ok := <-inactive; ok {
			p.Line("key %s is inactive", attack.AccessKeyID)
			contained <- at
		}
		close(contained)
	}()
	go func() {
		poller.Wait()
		if at, code := poller.Refused(); !at.IsZero() {
			p.Line("attacker's call refused (%s) after %d successful polls", code, poller.Calls()-1)
		}
	}()

	rep, outcome, err := e.Follow(ctx, ev.ID, p)
	if err != nil {
		return res, err
	}
	res.Outcome = outcome
	if outcome == Waiting {
		p.Line("the run waits for a person: firebreak approve/deny (see the report)")
	}
	res.Contained, err = res.wrapUp(ctx, e, p, t0, contained, poller, stopWatching, rep)
	return res, err
}

// wrapUp ends a scenario once its run has finished or waits: it waits a
// little for containment (when is sent on contained) and for the
// attacker's refused call, stops watching, sends the report through the
// demo's channels and fills res from the report. It says whether
// containment was seen.
func (res *Result) wrapUp(ctx context.Context, e *Env, p *Printer, t0 time.Time, contained <-chan time.Time, poller *Poller, stopWatching func(), rep ledger.Report) (bool, error) {
	seen := false
	select {
	case at, ok := <-contained:
		if ok {
			seen, res.ContainmentMS = true, at.Sub(t0).Milliseconds()
		}
	case <-time.After(refusalGrace):
	}
	waited := make(chan struct{})
	go func() { poller.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(refusalGrace):
	}
	stopWatching()
	poller.Wait()
	if at, _ := poller.Refused(); !at.IsZero() {
		res.AttackerBlockedMS = at.Sub(t0).Milliseconds()
	}
	deliveries, err := e.Notify(ctx, rep)
	if err != nil {
		return seen, err
	}
	for _, d := range deliveries {
		if d.OK {
			p.Line("%-16s %s to %s: sent", "notify", d.Channel, strings.Join(d.To, ", "))
		} else {
			p.Line("%-16s %s to %s: FAILED after %d attempts: %s", "notify", d.Channel, strings.Join(d.To, ", "), d.Attempts, d.Error)
		}
	}
	res.fillFromReport(e, rep)
	return seen, nil
}

// keyOwner names the user an access key belongs to.
func keyOwner(sb *sandbox.Sandbox, keyID string) string {
	for _, k := range sb.Keys() {
		if k.AccessKeyID == keyID {
			return k.UserName
		}
	}
	return "an unknown user"
}

// errorCode is an SDK error's API error code, or its text.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}
