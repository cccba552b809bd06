package investigate

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
)

// idKeys are the responseElements fields that hold the id of a resource
// that has no ARN there. Secrets (secretAccessKey, sessionToken) are never
// among them.
var idKeys = map[string]bool{
	"accessKeyId": true, "instanceId": true, "groupId": true, "keyPairId": true, "volumeId": true,
	"snapshotId": true, "imageId": true, "allocationId": true, "serialNumber": true,
}

// nameKeys are the requestParameters fields that name what a call acted
// on, for calls whose response names nothing.
var nameKeys = []string{"bucketName", "functionName", "groupId", "groupName", "keyName", "policyArn", "roleName", "userName"}

// maxDepth bounds the walk through a response.
const maxDepth = 12

// fromResponse returns the ARNs and ids an event's responseElements name,
// each once, in the order found.
func fromResponse(e cloudtrail.Event) []string {
	var out []string
	var v any
	if len(e.ResponseElements) > 0 && json.Unmarshal(e.ResponseElements, &v) == nil {
		walk(v, 0, func(key, val string) {
			if (idKeys[key] || strings.EqualFold(key, "arn") || strings.HasSuffix(key, "Arn")) && val != "" && !slices.Contains(out, val) {
				out = append(out, val)
			}
		})
	}
	return out
}

// fromResources returns the ARNs of an event's resources, each once.
func fromResources(e cloudtrail.Event) []string {
	var out []string
	for _, r := range e.Resources {
		if r.ARN != "" && !slices.Contains(out, r.ARN) {
			out = append(out, r.ARN)
		}
	}
	return out
}

// created returns what a create call made: the ARNs and ids its response
// names, else the ARNs of its resources.
func created(e cloudtrail.Event) []string {
	if r := fromResponse(e); len(r) > 0 {
		return r
	}
	return fromResources(e)
}

// walk calls f for every string field of v, keys in sorted order so that
// the result does not depend on map order.
func walk(v any, depth int, f func(key, val string)) {
	if depth > maxDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if s, ok := x[k].(string); ok {
				f(k, s)
				continue
			}
			walk(x[k], depth+1, f)
		}
	case []any:
		for _, item := range x {
			walk(item, depth+1, f)
		}
	}
}

// subject says what an event acted on: its resources and the ARNs and ids
// of its response, else the
// well-known names among its request parameters ("userName=bob
// policyArn=arn:…"), else "".
func subject(e cloudtrail.Event) string {
	r := fromResources(e)
	for _, id := range fromResponse(e) {
		if !slices.Contains(r, id) {
			r = append(r, id)
		}
	}
	if len(r) > 0 {
		return strings.Join(r, " ")
	}
	var params map[string]any
	if len(e.RequestParameters) == 0 || json.Unmarshal(e.RequestParameters, &params) != nil {
		return ""
	}
	var parts []string
	for _, k := range nameKeys {
		if s, ok := params[k].(string); ok && s != "" {
			parts = append(parts, k+"="+s)
		}
	}
	return strings.Join(parts, " ")
}
