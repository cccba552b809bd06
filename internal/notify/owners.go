package notify

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-sec/firebreak/internal/report"
)

// UserTagsAPI is the IAM call Owners makes; *iam.Client has it.
type UserTagsAPI interface {
	ListUserTags(ctx context.Context, in *iam.ListUserTagsInput, optFns ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
}

// OwnerTags are the IAM user tags that name an owner, in the order they
// are read: the first one present wins. A tag may hold several addresses
// separated by commas, semicolons or spaces.
var OwnerTags = []string{"firebreak:owner", "owner"}

// Owners chooses who is emailed about an incident: for each user the
// incident involves, the addresses in its owner tag (OwnerTags); else
// the configured mapping, by subject value (user, role, access key,
// instance, bucket) or account id; else Default, the security team. CC is
// added whenever owners were found, so the security team always hears.
type Owners struct {
	// IAM returns an IAM client for an account (nil: tags are not read).
	IAM     func(ctx context.Context, account string) (UserTagsAPI, error)
	Map     map[string][]string
	Default []string
	CC      []string
	Logger  *slog.Logger
}

// OneIAM is Owners.IAM for a single account's client.
func OneIAM(c UserTagsAPI) func(context.Context, string) (UserTagsAPI, error) {
	return func(context.Context, string) (UserTagsAPI, error) { return c, nil }
}

var _ Resolver = Owners{}

// Recipients implements Resolver. IAM failures (no permission, the user
// deleted) are logged and fall through to the mapping.
func (o Owners) Recipients(ctx context.Context, b report.Bundle) []string {
	var found []string
	add := func(list []string, addrs ...string) []string {
		for _, a := range addrs {
			if !contains(list, a) {
				list = append(list, a)
			}
		}
		return list
	}
	for _, s := range b.Event.Subjects {
		if s.Kind == "user" && o.IAM != nil {
			found = add(found, o.tagged(ctx, b, s.Value)...)
		}
	}
	if len(found) == 0 {
		for _, s := range b.Event.Subjects {
			found = add(found, o.Map[s.Value]...)
		}
	}
	if len(found) == 0 && b.Event.Account != "" {
		found = add(found, o.Map[b.Event.Account]...)
	}
	if len(found) == 0 {
		return add(nil, o.Default...)
	}
	return add(found, o.CC...)
}

// tagged reads user's owner tag.
func (o Owners) tagged(ctx context.Context, b report.Bundle, user string) []string {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, err := o.IAM(ctx, b.Event.Account)
	if err != nil {
		log.WarnContext(ctx, "owner lookup: no IAM client", "incident_id", b.IncidentID, "account", b.Event.Account, "error", err)
		return nil
	}
	tags := map[string]string{}
	in := &iam.ListUserTagsInput{UserName: aws.String(user)}
	for {
		out, err := client.ListUserTags(ctx, in)
		if err != nil {
			log.WarnContext(ctx, "owner lookup: iam list user tags failed", "incident_id", b.IncidentID, "user", user, "error", err)
			return nil
		}
		for _, t := range out.Tags {
			tags[strings.ToLower(aws.ToString(t.Key))] = aws.ToString(t.Value)
		}
		if !out.IsTruncated {
			break
		}
		in.Marker = out.Marker
	}
	for _, k := range OwnerTags {
		if v, ok := tags[k]; ok {
			return addresses(v, func(bad string) {
				log.WarnContext(ctx, "owner tag holds something that is not an email address; skipped", "user", user, "tag", k, "value", bad)
			})
		}
	}
	return nil
}

// addresses splits a tag value into email addresses.
func addresses(v string, bad func(string)) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		a, err := mail.ParseAddress(f)
		if err != nil {
			bad(f)
			continue
		}
		out = append(out, a.Address)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
