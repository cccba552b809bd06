package event

import (
	"bytes"
	"encoding/json"
	"strings"
)

// macieFinding is the part of a Macie finding Firebreak reads.
type macieFinding struct {
	AccountID string          `json:"accountId"`
	Region    string          `json:"region"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt json.RawMessage `json:"createdAt"`
	UpdatedAt json.RawMessage `json:"updatedAt"`
	Severity  *struct {
		Description string          `json:"description"`
		Score       json.RawMessage `json:"score"`
	} `json:"severity"`
	ResourcesAffected *struct {
		S3Bucket *struct {
			Name string `json:"name"`
		} `json:"s3Bucket"`
		S3Object *struct {
			Key  string `json:"key"`
			Path string `json:"path"`
		} `json:"s3Object"`
	} `json:"resourcesAffected"`
	PolicyDetails *struct {
		Actor *struct {
			IPAddressDetails *struct {
				IPAddressV4 string `json:"ipAddressV4"`
				IPCountry   *struct {
					Name string `json:"name"`
				} `json:"ipCountry"`
				IPOwner *struct {
					Org string `json:"org"`
				} `json:"ipOwner"`
			} `json:"ipAddressDetails"`
			UserIdentity *struct {
				IAMUser *struct {
					AccountID string `json:"accountId"`
					ARN       string `json:"arn"`
					UserName  string `json:"userName"`
				} `json:"iamUser"`
				AssumedRole *struct {
					AccessKeyID    string `json:"accessKeyId"`
					AccountID      string `json:"accountId"`
					ARN            string `json:"arn"`
					SessionContext *struct {
						SessionIssuer *ctIssuer `json:"sessionIssuer"`
					} `json:"sessionContext"`
				} `json:"assumedRole"`
				Root *struct {
					AccountID string `json:"accountId"`
					ARN       string `json:"arn"`
				} `json:"root"`
			} `json:"userIdentity"`
		} `json:"actor"`
	} `json:"policyDetails"`
}

// macie reads a Macie finding (an EventBridge detail, or bare).
func macie(data []byte, path string) (finding, error) {
	var m macieFinding
	if err := unmarshal(data, &m, path); err != nil {
		return finding{}, err
	}
	f := finding{
		source:      "aws.macie",
		detailType:  "Macie Finding",
		account:     m.AccountID,
		region:      m.Region,
		resources:   []string{},
		findingType: m.Type,
		findingID:   m.ID,
	}
	if s := m.Severity; s != nil {
		label := strings.ToUpper(strings.TrimSpace(s.Description))
		if label == "" {
			switch string(bytes.TrimSpace(s.Score)) {
			case "1":
				label = "LOW"
			case "2":
				label = "MEDIUM"
			case "3":
				label = "HIGH"
			}
		}
		score, ok := macieScores[label]
		if !ok && label != "" {
			return finding{}, errAt(join(path, "severity"), "unknown Macie severity %q (expected Low, Medium or High, or score 1-3)", clip(label))
		}
		orig := s.Description
		if orig == "" {
			orig = "score " + string(bytes.TrimSpace(s.Score))
		}
		f.severity = Severity{Score: score, Original: orig}
	}
	var err error
	if f.time, err = findingTime(m.UpdatedAt, m.CreatedAt, path, "updatedAt", "createdAt"); err != nil {
		return finding{}, err
	}
	b := &f.subjects
	if r := m.ResourcesAffected; r != nil && r.S3Bucket != nil {
		var key string
		if r.S3Object != nil {
			key = r.S3Object.Key
		}
		b.bucket(r.S3Bucket.Name, key)
	}
	if p := m.PolicyDetails; p != nil && p.Actor != nil {
		if ip := p.Actor.IPAddressDetails; ip != nil {
			r := RemoteIP{}
			if ip.IPCountry != nil {
				r.Country = ip.IPCountry.Name
			}
			if ip.IPOwner != nil {
				r.Org = ip.IPOwner.Org
			}
			b.ip(ip.IPAddressV4, r)
		}
		if id := p.Actor.UserIdentity; id != nil {
			if u := id.IAMUser; u != nil {
				b.user(User{Name: u.UserName, ARN: u.ARN, Account: u.AccountID, Type: "IAMUser"})
			}
			if r := id.AssumedRole; r != nil {
				b.key(AccessKey{ID: r.AccessKeyID, Account: r.AccountID})
				var issuer *ctIssuer
				if r.SessionContext != nil {
					issuer = r.SessionContext.SessionIssuer
				}
				assumedRole(b, r.ARN, r.AccountID, issuer)
			}
			if r := id.Root; r != nil {
				b.user(User{Name: "root", ARN: r.ARN, Account: r.AccountID, Type: "Root"})
			}
		}
	}
	return f, nil
}
