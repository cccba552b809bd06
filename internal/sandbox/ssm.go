package sandbox

import "context"

// ssmService is a placeholder until the service is simulated: every call fails
// with NotImplemented.
type ssmService struct{ sb *Sandbox }

func newSSMService(sb *Sandbox) Service { return &ssmService{sb: sb} }

func (s *ssmService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "ssm", Protocol: ProtocolJSON11, EventSource: "ssm.amazonaws.com"}
}

func (s *ssmService) Handle(ctx context.Context, req *Request) (*Response, error) {
	return nil, &APIError{Status: 501, Code: "NotImplemented", Message: "the sandbox does not simulate " + req.Operation + " yet"}
}
