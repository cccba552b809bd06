package sandbox

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// s3World is an account's "s3" section of the world file.
type s3World struct {
	// PublicAccessBlock is the account-level block (S3 Control).
	PublicAccessBlock *s3WorldPAB     `yaml:"public_access_block"`
	Buckets           []s3WorldBucket `yaml:"buckets"`
}

type s3WorldPAB struct {
	BlockPublicAcls       bool `yaml:"block_public_acls"`
	IgnorePublicAcls      bool `yaml:"ignore_public_acls"`
	BlockPublicPolicy     bool `yaml:"block_public_policy"`
	RestrictPublicBuckets bool `yaml:"restrict_public_buckets"`
}

type s3WorldBucket struct {
	Name   string `yaml:"name"`
	Region string `yaml:"region"` // default: the account's first region
	// ACL is a canned ACL: private (default), public-read,
	// public-read-write, authenticated-read.
	ACL string `yaml:"acl"`
	// Policy is the bucket policy, as a YAML mapping or a JSON string.
	Policy            yaml.Node         `yaml:"policy"`
	PublicAccessBlock *s3WorldPAB       `yaml:"public_access_block"`
	Tags              map[string]string `yaml:"tags"`
	Objects           []s3WorldObject   `yaml:"objects"`
}

type s3WorldObject struct {
	Key         string `yaml:"key"`
	Content     string `yaml:"content"`
	ContentType string `yaml:"content_type"`
}

func (p *s3WorldPAB) pab() *s3PAB {
	if p == nil {
		return nil
	}
	return &s3PAB{BlockPublicAcls: p.BlockPublicAcls, IgnorePublicAcls: p.IgnorePublicAcls,
		BlockPublicPolicy: p.BlockPublicPolicy, RestrictPublicBuckets: p.RestrictPublicBuckets}
}

// s3PolicyText turns the policy node into a JSON document.
func s3PolicyText(n *yaml.Node) (string, error) {
	if n.Kind == 0 {
		return "", nil
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Seed creates an account's buckets from its "s3" section. Public access
// blocks in the world file are applied after ACLs and policies, so a world
// can describe a bucket that was made public before the block was set.
func (s *s3Service) Seed(acct *Account, section *yaml.Node) error {
	if section == nil {
		return nil
	}
	var w s3World
	if err := DecodeStrict(section, &w); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := w.PublicAccessBlock.pab(); p != nil {
		s.account[acct.ID] = p
	}
	bucketsNode := ec2Child(section, "buckets")
	for i, wb := range w.Buckets {
		n := ec2Item(bucketsNode, i)
		field := fmt.Sprintf("buckets[%d]", i)
		if !s3BucketName.MatchString(wb.Name) {
			return NodeError(ec2Child(n, "name"), "%s.name: %q is not a valid bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", field, wb.Name)
		}
		if s.buckets[wb.Name] != nil {
			return NodeError(ec2Child(n, "name"), "%s.name: bucket %q already exists (bucket names are global)", field, wb.Name)
		}
		region := sectionRegion(acct, wb.Region)
		acl := s3Canned("private", acct.ID)
		if wb.ACL != "" {
			a, err := s3CannedACL(wb.ACL, acct.ID)
			if err != nil {
				return NodeError(ec2Child(n, "acl"), "%s.acl: %q is not a canned ACL", field, wb.ACL)
			}
			acl = a
		}
		policy, err := s3PolicyText(&wb.Policy)
		if err != nil {
			return NodeError(&wb.Policy, "%s.policy: %v", field, err)
		}
		if policy != "" {
			if _, err := s3ParsePolicy(policy); err != nil {
				return NodeError(&wb.Policy, "%s.policy: %v", field, err)
			}
		}
		b := &s3Bucket{Name: wb.Name, Account: acct.ID, Region: region, Created: s.sb.Now(), ACL: acl, Policy: policy,
			PAB: wb.PublicAccessBlock.pab(), Objects: map[string]*s3Object{}}
		if len(wb.Tags) > 0 {
			for _, k := range ec2Sorted(wb.Tags) {
				b.Tags = append(b.Tags, ec2Tag{Key: k, Value: wb.Tags[k]})
			}
		}
		for j, o := range wb.Objects {
			if o.Key == "" {
				return NodeError(ec2Item(ec2Child(n, "objects"), j), "%s.objects[%d].key: required", field, j)
			}
			data := []byte(o.Content)
			b.Objects[o.Key] = &s3Object{Key: o.Key, Data: data, ETag: s3ETag(data), ContentType: o.ContentType,
				Metadata: map[string]string{}, LastModified: b.Created}
		}
		s.buckets[b.Name] = b
	}
	return nil
}
