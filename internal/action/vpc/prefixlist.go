package vpc

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Prefix-list mode. Network ACLs cannot reference a prefix list, so this
// mode serves the rules that can: an AWS Network Firewall rule group, a
// security group or a route referencing a customer-managed prefix list
// the operator dedicates to Firebreak. An entry is Firebreak's when its
// description says so; every other entry is the operator's and is never
// removed, replaced or recycled.

// BlocklistTagKey, with the value "true", marks a customer-managed prefix
// list that aws.vpc.unblock_expired sweeps without being told to.
const BlocklistTagKey = "firebreak:blocklist"

// plDescPrefix starts the description of Firebreak's prefix-list entries:
// "firebreak:block until <expires> since <created>[ incident <id>]", both
// times RFC 3339 UTC.
const plDescPrefix = "firebreak:block "

var (
	rePrefixListID = regexp.MustCompile(`^pl-[0-9a-f]{8,17}$`)
	reIncidentID   = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
)

// plBlock is one Firebreak entry of a prefix list.
type plBlock struct {
	cidr             string
	created, expires time.Time
	incident         string
}

func (b plBlock) description() string {
	d := plDescPrefix + "until " + b.expires.UTC().Format(time.RFC3339) + " since " + b.created.UTC().Format(time.RFC3339)
	if reIncidentID.MatchString(b.incident) {
		d += " incident " + b.incident
	}
	return d
}

// parsePLDescription reads a prefix-list entry's description; ok is false
// when the entry is not Firebreak's.
func parsePLDescription(cidr, desc string) (b plBlock, ok bool, err error) {
	rest, found := strings.CutPrefix(desc, plDescPrefix)
	if !found {
		return plBlock{}, false, nil
	}
	f := strings.Fields(rest)
	if (len(f) != 4 && len(f) != 6) || f[0] != "until" || f[2] != "since" || len(f) == 6 && f[4] != "incident" {
		return plBlock{}, true, fmt.Errorf("entry %s: description %q: want \"firebreak:block until <expires> since <created>[ incident <id>]\"", cidr, desc)
	}
	b.cidr = cidr
	if b.expires, err = time.Parse(time.RFC3339, f[1]); err != nil {
		return plBlock{}, true, fmt.Errorf("entry %s: expires %q: %w", cidr, f[1], err)
	}
	if b.created, err = time.Parse(time.RFC3339, f[3]); err != nil {
		return plBlock{}, true, fmt.Errorf("entry %s: created %q: %w", cidr, f[3], err)
	}
	if len(f) == 6 {
		b.incident = f[5]
	}
	b.created, b.expires = b.created.Truncate(time.Second), b.expires.Truncate(time.Second)
	return b, true, nil
}

// prefixList is what the actions know of one managed prefix list, at one
// version.
type prefixList struct {
	id, family string
	version    int64
	max        int
	cidrs      map[string]bool    // every entry
	blocks     map[string]plBlock // Firebreak's entries, by CIDR
	badDescs   []error
}

// readPrefixList reads a prefix list and its entries at its current
// version.
func readPrefixList(ctx context.Context, api API, id string) (prefixList, error) {
	out, err := api.DescribeManagedPrefixLists(ctx, &awsec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{id}})
	if c := action.ErrorCode(err); c == "InvalidPrefixListID.NotFound" || c == "InvalidPrefixListId.Malformed" {
		return prefixList{}, action.Mark(action.Permanent, fmt.Errorf("prefix list %s: %w", id, err))
	}
	if err != nil {
		return prefixList{}, fmt.Errorf("describe prefix list %s: %w", id, err)
	}
	if len(out.PrefixLists) != 1 {
		return prefixList{}, action.Mark(action.Permanent, fmt.Errorf("prefix list %s: not found", id))
	}
	d := out.PrefixLists[0]
	pl := prefixList{
		id: id, family: aws.ToString(d.AddressFamily), version: aws.ToInt64(d.Version), max: int(aws.ToInt32(d.MaxEntries)),
		cidrs: map[string]bool{}, blocks: map[string]plBlock{},
	}
	p := awsec2.NewGetManagedPrefixListEntriesPaginator(api, &awsec2.GetManagedPrefixListEntriesInput{
		PrefixListId: aws.String(id), TargetVersion: aws.Int64(pl.version),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return prefixList{}, fmt.Errorf("entries of prefix list %s: %w", id, err)
		}
		for _, e := range page.Entries {
			cidr := aws.ToString(e.Cidr)
			pl.cidrs[cidr] = true
			b, ok, err := parsePLDescription(cidr, aws.ToString(e.Description))
			switch {
			case err != nil:
				pl.badDescs = append(pl.badDescs, fmt.Errorf("prefix list %s: %w", id, err))
			case ok:
				pl.blocks[cidr] = b
			}
		}
	}
	return pl, nil
}

// oldest is Firebreak's entry created first (by CIDR among equals).
func (pl prefixList) oldest() (plBlock, bool) {
	var out plBlock
	found := false
	for _, b := range pl.blocks {
		if !found || b.created.Before(out.created) || b.created.Equal(out.created) && b.cidr < out.cidr {
			out, found = b, true
		}
	}
	return out, found
}

// plChange is one ModifyManagedPrefixList: entries to add and CIDRs to
// remove. The zero value changes nothing.
type plChange struct {
	add    []plBlock
	remove []string
}

func (c plChange) empty() bool { return len(c.add) == 0 && len(c.remove) == 0 }

func (c plChange) String() string {
	var parts []string
	if len(c.remove) > 0 {
		parts = append(parts, "remove "+strings.Join(c.remove, ", "))
	}
	for _, a := range c.add {
		parts = append(parts, fmt.Sprintf("add %s (%s)", a.cidr, a.description()))
	}
	return strings.Join(parts, "; ")
}

// plConflictCodes are the errors of a prefix list another writer changed
// (PrefixListVersionMismatch, or PrefixListMaxEntriesExceeded when it
// filled the room this change counted on) or is changing (IncorrectState:
// a modify still in progress): read again and plan again.
var plConflictCodes = []string{"PrefixListVersionMismatch", "IncorrectState", "PrefixListMaxEntriesExceeded"}

// plAttempts bounds how often modifyPrefixList reads again after a
// conflict, and plBackoff is its first wait (doubled each time, at most
// 2s).
const (
	plAttempts = 8
	plBackoff  = 100 * time.Millisecond
)

// modifyPrefixList brings a prefix list to what next asks, one
// ModifyManagedPrefixList at a time, each with the version it read:
// next sees the list as it is now and returns the change still needed
// (none when done). A version conflict reads again; so does a success,
// since next may need a second call (a description is changed by removing
// the entry and adding it again). done reports every change made.
func modifyPrefixList(ctx context.Context, api API, id string, next func(prefixList) (plChange, error), done func(plChange)) error {
	wait := plBackoff
	calls := 0
	for attempt := 1; ; attempt++ {
		pl, err := readPrefixList(ctx, api, id)
		if err != nil {
			return err
		}
		change, err := next(pl)
		if err != nil || change.empty() {
			return err
		}
		if calls == 4 {
			return fmt.Errorf("prefix list %s: still wants %s after %d changes", id, change, calls)
		}
		in := &awsec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), CurrentVersion: aws.Int64(pl.version)}
		for _, a := range change.add {
			in.AddEntries = append(in.AddEntries, types.AddPrefixListEntry{Cidr: aws.String(a.cidr), Description: aws.String(a.description())})
		}
		for _, r := range change.remove {
			in.RemoveEntries = append(in.RemoveEntries, types.RemovePrefixListEntry{Cidr: aws.String(r)})
		}
		_, err = api.ModifyManagedPrefixList(ctx, in)
		if err == nil {
			done(change)
			calls++
			attempt = 0
			continue
		}
		err = fmt.Errorf("modify prefix list %s at version %d (%s): %w", id, pl.version, change, err)
		if !slices.Contains(plConflictCodes, action.ErrorCode(err)) {
			return err
		}
		if attempt >= plAttempts {
			return action.Mark(action.Retry, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (%w)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// checkFamily rejects an address the prefix list cannot hold.
func (pl prefixList) checkFamily(id, cidr string) error {
	v6 := isIPv6(cidr)
	if (pl.family == "IPv6") != v6 {
		return action.Mark(action.Permanent, fmt.Errorf("%s: prefix list %s holds %s ranges, not %s", id, pl.id, pl.family, cidr))
	}
	return nil
}

// validPrefixListID checks a prefix_list_id parameter.
func validPrefixListID(id, field string) error {
	if !rePrefixListID.MatchString(id) {
		return action.Mark(action.Permanent, fmt.Errorf("%s: %q is not a prefix list id (pl- and 8 or 17 hex digits)", field, id))
	}
	return nil
}

// next is the change that brings pl closer to holding the block: nothing
// when the list holds it until at least its expiry, or holds the address
// in an entry Firebreak did not add; the entry's removal when it must be
// added again with a later expiry; its addition, recycling the oldest
// Firebreak entry when the list is at MaxEntries.
func (want plBlock) next(pl prefixList) (plChange, error) {
	cur, ours := pl.blocks[want.cidr]
	switch {
	case ours && !cur.expires.Before(want.expires):
		return plChange{}, nil
	case ours:
		return plChange{remove: []string{want.cidr}}, nil
	case pl.cidrs[want.cidr]:
		return plChange{}, nil
	case len(pl.cidrs) < pl.max:
		return plChange{add: []plBlock{want}}, nil
	}
	old, ok := pl.oldest()
	if !ok {
		return plChange{}, action.Mark(action.Permanent, fmt.Errorf("prefix list %s is full (%d of %d entries) and holds no Firebreak entry to recycle", pl.id, len(pl.cidrs), pl.max))
	}
	return plChange{add: []plBlock{want}, remove: []string{old.cidr}}, nil
}

// planPrefixList plans the block in the prefix list bl.prefixList.
func (bl *blocking) planPrefixList(ctx context.Context, api API, call action.Call, now time.Time) error {
	bl.Read("ec2:DescribeManagedPrefixLists", bl.prefixList, "")
	bl.Read("ec2:GetManagedPrefixListEntries", bl.prefixList, "")
	pl, err := readPrefixList(ctx, api, bl.prefixList)
	if err != nil {
		return fmt.Errorf("%s: %w", blockID, err)
	}
	for _, e := range pl.badDescs {
		call.Log().WarnContext(ctx, "prefix-list entry ignored", "error", e)
	}
	if err := pl.checkFamily(blockID, bl.cidr); err != nil {
		return err
	}
	want := plBlock{cidr: bl.cidr, created: now, expires: bl.expires, incident: call.Key.Incident}
	cur, ours := pl.blocks[bl.cidr]
	switch {
	case ours && !cur.expires.Before(want.expires):
		bl.expires = cur.expires
		return nil
	case ours:
		want.created = cur.created
	case pl.cidrs[bl.cidr]:
		call.Log().InfoContext(ctx, "address already in the prefix list, in an entry Firebreak did not add", "prefix_list", pl.id, "cidr", bl.cidr)
		return nil
	}
	first, err := want.next(pl)
	if err != nil {
		return fmt.Errorf("%s: %w", blockID, err)
	}
	detail := first.String()
	if ours {
		detail = fmt.Sprintf("remove %s and add it again (%s)", bl.cidr, want.description())
	}
	bl.Write("ec2:ModifyManagedPrefixList", pl.id, detail, func(ctx context.Context) error {
		err := modifyPrefixList(ctx, api, pl.id, want.next, func(c plChange) {
			for _, r := range c.remove {
				if r != want.cidr {
					bl.recycled = append(bl.recycled, pl.id+":"+r)
					call.Log().InfoContext(ctx, "recycling the oldest prefix-list block", "prefix_list", pl.id, "cidr", r)
				}
			}
		})
		if err != nil {
			return fmt.Errorf("%s: %w", blockID, err)
		}
		return nil
	})
	return nil
}
