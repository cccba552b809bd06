package guardrail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// IAMAPI is the IAM calls the guardrail makes to resolve targets;
// *iam.Client has them.
type IAMAPI interface {
	GetUser(ctx context.Context, in *iam.GetUserInput, opts ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListUserTags(ctx context.Context, in *iam.ListUserTagsInput, opts ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	ListRoleTags(ctx context.Context, in *iam.ListRoleTagsInput, opts ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, opts ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, opts ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	ListUsers(ctx context.Context, in *iam.ListUsersInput, opts ...func(*iam.Options)) (*iam.ListUsersOutput, error)
}

// EC2API is the EC2 calls the guardrail makes; *ec2.Client has them.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// S3API is the S3 call the guardrail makes; *s3.Client has it.
type S3API interface {
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, opts ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
}

var (
	_ IAMAPI = (*iam.Client)(nil)
	_ EC2API = (*ec2.Client)(nil)
	_ S3API  = (*s3.Client)(nil)
)

// services are the clients for one account and region.
type services struct {
	iam IAMAPI
	ec2 EC2API
	s3  S3API
}

// lookup resolves targets through AWS and caches what it learns for a
// short time. Errors are never cached.
type lookup struct {
	clients action.Clients
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]entry
	svcs    map[action.Target]services
}

type entry struct {
	v       any
	expires time.Time
}

// maxEntries bounds the cache; past it the cache starts again empty.
const maxEntries = 50000

func newLookup(clients action.Clients, ttl time.Duration, now func() time.Time) *lookup {
	return &lookup{clients: clients, ttl: ttl, now: now, entries: map[string]entry{}, svcs: map[action.Target]services{}}
}

// cached returns the value under key, loading it when absent or expired.
// Concurrent misses may load twice; both results are equally fresh.
func cached[T any](l *lookup, key string, load func() (T, error)) (T, error) {
	now := l.now()
	l.mu.Lock()
	e, ok := l.entries[key]
	l.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.v.(T), nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	l.mu.Lock()
	if len(l.entries) >= maxEntries {
		l.entries = map[string]entry{}
	}
	l.entries[key] = entry{v: v, expires: now.Add(l.ttl)}
	l.mu.Unlock()
	return v, nil
}

func (l *lookup) services(ctx context.Context, t action.Target) (services, error) {
	l.mu.Lock()
	s, ok := l.svcs[t]
	l.mu.Unlock()
	if ok {
		return s, nil
	}
	if l.clients == nil {
		return services{}, errors.New("no AWS clients configured to look it up")
	}
	cfg, err := l.clients.Config(ctx, t)
	if err != nil {
		return services{}, fmt.Errorf("aws config for account %s region %s: %w", t.Account, t.Region, err)
	}
	s = services{iam: iam.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg)}
	l.mu.Lock()
	l.svcs[t] = s
	l.mu.Unlock()
	return s, nil
}

// iamEntity is a user or role as IAM describes it.
type iamEntity struct {
	arn  string
	tags map[string]string
}

func (l *lookup) user(ctx context.Context, t action.Target, name string) (iamEntity, error) {
	return cached(l, "user\x00"+t.Account+"\x00"+name, func() (iamEntity, error) {
		s, err := l.services(ctx, t)
		if err != nil {
			return iamEntity{}, err
		}
		out, err := s.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		if err != nil {
			return iamEntity{}, fmt.Errorf("iam get user %s: %w", name, err)
		}
		if out.User == nil {
			return iamEntity{}, fmt.Errorf("iam get user %s: no user in the answer", name)
		}
		e := iamEntity{arn: aws.ToString(out.User.Arn), tags: map[string]string{}}
		p := iam.NewListUserTagsPaginator(s.iam, &iam.ListUserTagsInput{UserName: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return iamEntity{}, fmt.Errorf("iam list user tags %s: %w", name, err)
			}
			for _, tag := range page.Tags {
				e.tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
		}
		return e, nil
	})
}

func (l *lookup) role(ctx context.Context, t action.Target, name string) (iamEntity, error) {
	return cached(l, "role\x00"+t.Account+"\x00"+name, func() (iamEntity, error) {
		s, err := l.services(ctx, t)
		if err != nil {
			return iamEntity{}, err
		}
		out, err := s.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return iamEntity{}, fmt.Errorf("iam get role %s: %w", name, err)
		}
		if out.Role == nil {
			return iamEntity{}, fmt.Errorf("iam get role %s: no role in the answer", name)
		}
		e := iamEntity{arn: aws.ToString(out.Role.Arn), tags: map[string]string{}}
		p := iam.NewListRoleTagsPaginator(s.iam, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return iamEntity{}, fmt.Errorf("iam list role tags %s: %w", name, err)
			}
			for _, tag := range page.Tags {
				e.tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
		}
		return e, nil
	})
}

// keyOwner returns the name of the user an access key belongs to.
func (l *lookup) keyOwner(ctx context.Context, t action.Target, keyID string) (string, error) {
	return cached(l, "key\x00"+t.Account+"\x00"+keyID, func() (string, error) {
		s, err := l.services(ctx, t)
		if err != nil {
			return "", err
		}
		out, err := s.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
		if err != nil {
			return "", fmt.Errorf("iam get access key last used %s: %w", keyID, err)
		}
		user := aws.ToString(out.UserName)
		if user == "" {
			return "", fmt.Errorf("iam get access key last used %s: no owning user in the answer", keyID)
		}
		return user, nil
	})
}

// instance is an EC2 instance's tags and the roles of its instance
// profile.
type instance struct {
	tags  map[string]string
	roles []string
}

func (l *lookup) instance(ctx context.Context, t action.Target, id string) (instance, error) {
	return cached(l, "instance\x00"+t.Account+"\x00"+t.Region+"\x00"+id, func() (instance, error) {
		s, err := l.services(ctx, t)
		if err != nil {
			return instance{}, err
		}
		out, err := s.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return instance{}, fmt.Errorf("ec2 describe instances %s: %w", id, err)
		}
		var found *ec2types.Instance
		for _, r := range out.Reservations {
			for i := range r.Instances {
				if aws.ToString(r.Instances[i].InstanceId) == id {
					found = &r.Instances[i]
				}
			}
		}
		if found == nil {
			return instance{}, fmt.Errorf("ec2 describe instances %s: not in the answer", id)
		}
		in := instance{tags: ec2Tags(found.Tags)}
		if found.IamInstanceProfile != nil {
			arn := aws.ToString(found.IamInstanceProfile.Arn)
			name := arn[strings.LastIndexByte(arn, '/')+1:]
			if name == "" {
				return instance{}, fmt.Errorf("ec2 describe instances %s: instance profile ARN %q names no profile", id, arn)
			}
			prof, err := s.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
			if err != nil {
				return instance{}, fmt.Errorf("iam get instance profile %s of %s: %w", name, id, err)
			}
			if prof.InstanceProfile == nil {
				return instance{}, fmt.Errorf("iam get instance profile %s of %s: no profile in the answer", name, id)
			}
			for _, r := range prof.InstanceProfile.Roles {
				in.roles = append(in.roles, aws.ToString(r.RoleName))
			}
		}
		return in, nil
	})
}

func (l *lookup) securityGroup(ctx context.Context, t action.Target, id string) (map[string]string, error) {
	return cached(l, "sg\x00"+t.Account+"\x00"+t.Region+"\x00"+id, func() (map[string]string, error) {
		s, err := l.services(ctx, t)
		if err != nil {
			return nil, err
		}
		out, err := s.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		if err != nil {
			return nil, fmt.Errorf("ec2 describe security groups %s: %w", id, err)
		}
		for _, g := range out.SecurityGroups {
			if aws.ToString(g.GroupId) == id {
				return ec2Tags(g.Tags), nil
			}
		}
		return nil, fmt.Errorf("ec2 describe security groups %s: not in the answer", id)
	})
}

func (l *lookup) bucket(ctx context.Context, t action.Target, name string) (map[string]string, error) {
	return cached(l, "bucket\x00"+t.Account+"\x00"+name, func() (map[string]string, error) {
		s, err := l.services(ctx, t)
		if err != nil {
			return nil, err
		}
		out, err := s.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchTagSet" {
			return map[string]string{}, nil // a bucket without tags
		}
		if err != nil {
			return nil, fmt.Errorf("s3 get bucket tagging %s: %w", name, err)
		}
		tags := map[string]string{}
		for _, tag := range out.TagSet {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return tags, nil
	})
}

// count returns the size of a percentage budget's base in t.
func (l *lookup) count(ctx context.Context, t action.Target, b Base) (int64, error) {
	key := "count\x00" + t.Account + "\x00" + t.Region + "\x00" + string(b.Kind)
	var filters []ec2types.Filter
	for _, k := range sortedKeys(b.Tags) {
		key += "\x00" + k + "=" + b.Tags[k]
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{b.Tags[k]}})
	}
	return cached(l, key, func() (int64, error) {
		s, err := l.services(ctx, t)
		if err != nil {
			return 0, err
		}
		var n int64
		switch b.Kind {
		case BaseInstances:
			filters := append(filters, ec2types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}})
			p := ec2.NewDescribeInstancesPaginator(s.ec2, &ec2.DescribeInstancesInput{Filters: filters})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return 0, fmt.Errorf("ec2 describe instances: %w", err)
				}
				for _, r := range page.Reservations {
					n += int64(len(r.Instances))
				}
			}
		case BaseUsers:
			p := iam.NewListUsersPaginator(s.iam, &iam.ListUsersInput{})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return 0, fmt.Errorf("iam list users: %w", err)
				}
				n += int64(len(page.Users))
			}
		default:
			return 0, fmt.Errorf("unknown base %q", b.Kind)
		}
		return n, nil
	})
}

func ec2Tags(tags []ec2types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}
