package sandbox

import "context"

// securityHubService is a placeholder until the service is simulated: every call fails
// with NotImplemented.
type securityHubService struct{ sb *Sandbox }

func newSecurityHubService(sb *Sandbox) Service { return &securityHubService{sb: sb} }

func (s *securityHubService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "securityhub", Protocol: ProtocolRESTJSON, EventSource: "securityhub.amazonaws.com"}
}

func (s *securityHubService) Handle(ctx context.Context, req *Request) (*Response, error) {
	return nil, &APIError{Status: 501, Code: "NotImplemented", Message: "the sandbox does not simulate " + req.Operation + " yet"}
}
