package sandbox

import "context"

// autoScalingService is a placeholder until the service is simulated: every call fails
// with NotImplemented.
type autoScalingService struct{ sb *Sandbox }

func newAutoScalingService(sb *Sandbox) Service { return &autoScalingService{sb: sb} }

func (s *autoScalingService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "autoscaling", Protocol: ProtocolQuery, EventSource: "autoscaling.amazonaws.com"}
}

func (s *autoScalingService) Handle(ctx context.Context, req *Request) (*Response, error) {
	return nil, &APIError{Status: 501, Code: "NotImplemented", Message: "the sandbox does not simulate " + req.Operation + " yet"}
}
