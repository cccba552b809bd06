package sandbox

import (
	"context"
	"net/http"
	"strings"
)

// s3ControlPrefix starts every S3 Control path.
const s3ControlPrefix = "/v20180820/"

// s3ControlService simulates the account-level public access block of S3
// Control. It signs as "s3" and claims the /v20180820/ paths; its state
// lives in the S3 service, whose behaviour it changes.
type s3ControlService struct {
	sb *Sandbox
}

func newS3ControlService(sb *Sandbox) Service { return &s3ControlService{sb: sb} }

func (s *s3ControlService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "s3", Name: "s3control", Protocol: ProtocolRESTXMLWrapped, EventSource: "s3.amazonaws.com"}
}

// Claims takes the S3 Control paths, whatever the host: the SDK sends them
// to {AccountId}.<endpoint host>.
func (s *s3ControlService) Claims(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, s3ControlPrefix)
}

// OperationName names the public access block operations.
func (s *s3ControlService) OperationName(req *Request) string {
	if req.HTTP.URL.Path != s3ControlPrefix+"configuration/publicAccessBlock" {
		return ""
	}
	switch req.HTTP.Method {
	case http.MethodGet:
		return "GetPublicAccessBlock"
	case http.MethodPut:
		return "PutPublicAccessBlock"
	case http.MethodDelete:
		return "DeletePublicAccessBlock"
	}
	return ""
}

// Handle serves one S3 Control request.
func (s *s3ControlService) Handle(_ context.Context, req *Request) (*Response, error) {
	account := req.HTTP.Header.Get("x-amz-account-id")
	if account == "" {
		return nil, Errorf("InvalidRequest", "Missing required header for this request: x-amz-account-id")
	}
	if account != req.Caller.Account {
		return nil, s3AccessDenied()
	}
	req.Trail.RequestParameters = map[string]any{"accountId": account}
	req.Trail.Resources = []TrailResource{{Type: "AWS::S3::AccountPublicAccessBlock", Name: account}}
	s3 := s.sb.s3()
	if s3 == nil {
		return nil, ErrorStatus(http.StatusServiceUnavailable, "ServiceUnavailable", "S3 is not running in this sandbox")
	}
	s3.mu.Lock()
	defer s3.mu.Unlock()
	switch req.Operation {
	case "GetPublicAccessBlock":
		p := s3.account[account]
		if p == nil {
			return nil, s3NoPAB()
		}
		return s3XML(p.node()), nil
	case "PutPublicAccessBlock":
		p, err := s3ParsePAB(req.Body)
		if err != nil {
			return nil, err
		}
		s3.account[account] = p
		return s3Empty(http.StatusOK), nil
	case "DeletePublicAccessBlock":
		delete(s3.account, account)
		return s3Empty(http.StatusNoContent), nil
	}
	return nil, ErrorStatus(http.StatusNotImplemented, "NotImplemented", "The sandbox's S3 Control serves only the account public access block.")
}
