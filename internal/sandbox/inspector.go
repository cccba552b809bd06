package sandbox

import "context"

// inspectorService is a placeholder until the service is simulated: every call fails
// with NotImplemented.
type inspectorService struct{ sb *Sandbox }

func newInspectorService(sb *Sandbox) Service { return &inspectorService{sb: sb} }

func (s *inspectorService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "inspector2", Protocol: ProtocolRESTJSON, EventSource: "inspector2.amazonaws.com"}
}

func (s *inspectorService) Handle(ctx context.Context, req *Request) (*Response, error) {
	return nil, &APIError{Status: 501, Code: "NotImplemented", Message: "the sandbox does not simulate " + req.Operation + " yet"}
}
