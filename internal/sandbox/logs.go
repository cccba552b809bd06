package sandbox

import "context"

// logsService is a placeholder until the service is simulated: every call fails
// with NotImplemented.
type logsService struct{ sb *Sandbox }

func newLogsService(sb *Sandbox) Service { return &logsService{sb: sb} }

func (s *logsService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "logs", Protocol: ProtocolJSON11, EventSource: "logs.amazonaws.com"}
}

func (s *logsService) Handle(ctx context.Context, req *Request) (*Response, error) {
	return nil, &APIError{Status: 501, Code: "NotImplemented", Message: "the sandbox does not simulate " + req.Operation + " yet"}
}
