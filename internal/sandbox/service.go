package sandbox

// This file is the contract between the sandbox core (HTTP server, SigV4,
// authorisation, faults, CloudTrail, event bus, world) and the services that
// simulate one AWS API each. It is kept stable: extend it, don't break it.
//
// # How a request flows
//
//  1. The core reads the whole body (decoding S3's aws-chunked framing, see
//     Request.Body), parses the SigV4 Authorization header or presigned query,
//     and picks the Service by the signing name in the credential scope
//     ("iam", "sts", "ec2", "s3", "sqs", "sns", "ses", "cloudtrail"). When
//     several services share a signing name (s3 and s3control both sign as
//     "s3"), the first registered service implementing Claimer whose Claims
//     returns true wins; a service without Claims is the fallback.
//  2. It names the operation: the Action form parameter for ProtocolQuery and
//     ProtocolEC2, the part of X-Amz-Target after the dot for the JSON
//     protocols, and OperationNamer.OperationName for the REST protocols.
//  3. It authenticates the caller against the access keys the sandbox issued
//     (wrong key or wrong secret get the service's real error), applies
//     explicit-deny policies on the caller (AccessDenied), and injected faults
//     (throttling, 5xx, latency).
//  4. It calls Service.Handle with no lock held. The service reads
//     Request.Form or Request.Body, changes its state under its own lock,
//     fills Request.Trail to describe the call for CloudTrail, and returns a
//     *Response (built with QueryResult, EC2Result, JSONResult, XMLResult or by
//     hand) or an error. An *APIError is encoded in the service's protocol;
//     any other error becomes a 500 InternalFailure.
//  5. The core sets x-amzn-RequestId (and x-amz-request-id / x-amz-id-2 for
//     REST XML), records a CloudTrail record for the call, success or error,
//     and for calls that are not read-only puts an "AWS API Call via
//     CloudTrail" event on the bus.
//
// # Registering a service
//
// Services are listed explicitly, in one place, in registry.go
// (builtinServices); there is no init() registration. A service is a value
// built by a constructor func(sb *Sandbox) Service that is called again on
// every Reset, so a service keeps all of its state in its own struct and
// never in package variables. The EC2/S3 constructors are named newEC2Service,
// newS3Service and newS3ControlService.
//
// # State and locking
//
// Each service owns its state and guards it with its own sync.Mutex. The
// core never holds a lock while calling Handle, so a handler may block (SQS
// long polling does). Release your own lock before calling any *Sandbox
// method (Publish, InstanceProfile, Account, ...): those take the core's
// locks and may call into other services. State is per account and, for
// regional services, per region: key it by Request.Caller.Account (the
// account the caller authenticated into) and Request.Region.
//
// # What services can reach
//
// A constructor gets the *Sandbox. Use sb.Now() for the clock (never
// time.Now), sb.IDs() for AWS-shaped ids (deterministic with Options.Seed),
// sb.Accounts()/sb.Account(id) for the world's accounts, sb.Role and
// sb.InstanceProfile for IAM roles and instance profiles (EC2
// RunInstances/AssociateIamInstanceProfile), sb.Publish to put an event on
// the EventBridge-like bus (delivered to the events queue), and
// sb.Endpoint() for URLs handed back to clients.
//
// # SigV4
//
// Every request must be signed with a key the sandbox issued: header auth
// (Authorization: AWS4-HMAC-SHA256 ...) or presigned query auth
// (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Expires). The
// payload hash is X-Amz-Content-Sha256 when present: a hex SHA-256 (checked
// against the body, XAmzContentSHA256Mismatch otherwise), UNSIGNED-PAYLOAD,
// or one of the STREAMING-* modes (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
// STREAMING-UNSIGNED-PAYLOAD-TRAILER, ...): the seed signature in the
// Authorization header is verified, per-chunk signatures and trailing
// checksums are not, and Request.Body carries the de-chunked payload. For
// signing name "s3" the canonical URI is not escaped twice, as S3 requires.
// An unknown, inactive or deleted key is refused with the code the real
// service uses for its protocol: InvalidClientTokenId (awsQuery, 403),
// UnrecognizedClientException (awsJson, restJson, 400/403), AuthFailure
// (ec2Query, 401), InvalidAccessKeyId (REST XML, 403); a wrong signature
// with SignatureDoesNotMatch (AuthFailure for ec2Query).

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.yaml.in/yaml/v3"
)

// Protocol is an AWS wire protocol. It decides how the core names the
// operation and how it encodes errors.
type Protocol int

const (
	// ProtocolQuery is awsQuery (IAM, STS, SNS): form-encoded POST with
	// Action and Version, XML responses <OpResponse><OpResult>, errors as
	// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>.
	ProtocolQuery Protocol = iota + 1
	// ProtocolEC2 is ec2Query: form-encoded like awsQuery, responses
	// <OpResponse><requestId/>...</OpResponse>, errors as
	// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
	ProtocolEC2
	// ProtocolJSON10 is awsJson1_0 (SQS): POST /, X-Amz-Target
	// "AmazonSQS.SendMessage", JSON bodies, errors as {"__type","message"}
	// plus the x-amzn-query-error header when APIError.QueryCode is set.
	ProtocolJSON10
	// ProtocolJSON11 is awsJson1_1 (CloudTrail), same shape as
	// ProtocolJSON10 with Content-Type application/x-amz-json-1.1.
	ProtocolJSON11
	// ProtocolRESTJSON is restJson1 (SES v2): the operation is named by
	// method and path (OperationNamer); errors as the X-Amzn-ErrorType header
	// and {"message"} body.
	ProtocolRESTJSON
	// ProtocolRESTXML is restXml as S3 speaks it: errors as a bare
	// <Error><Code/><Message/>...<RequestId/><HostId/></Error>.
	ProtocolRESTXML
	// ProtocolRESTXMLWrapped is restXml with wrapped errors (S3 Control):
	// <ErrorResponse><Error><Code/><Message/></Error><RequestId/><HostId/></ErrorResponse>.
	ProtocolRESTXMLWrapped
)

func (p Protocol) String() string {
	switch p {
	case ProtocolQuery:
		return "awsQuery"
	case ProtocolEC2:
		return "ec2Query"
	case ProtocolJSON10:
		return "awsJson1_0"
	case ProtocolJSON11:
		return "awsJson1_1"
	case ProtocolRESTJSON:
		return "restJson1"
	case ProtocolRESTXML:
		return "restXml"
	case ProtocolRESTXMLWrapped:
		return "restXml(wrapped)"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// ServiceInfo describes a service to the core. Only SigningName and Protocol
// are required.
type ServiceInfo struct {
	// SigningName is the SigV4 signing name in the credential scope
	// ("iam", "sts", "ec2", "s3", "sqs", "sns", "ses", "cloudtrail").
	SigningName string
	// Name identifies the service in faults, the control API and logs when it
	// differs from SigningName ("s3control"). Defaults to SigningName.
	Name string
	// Protocol is the wire protocol.
	Protocol Protocol
	// EventSource is CloudTrail's eventSource. Defaults to
	// SigningName + ".amazonaws.com".
	EventSource string
	// ActionPrefix is the IAM action prefix used for authorisation
	// ("iam:CreateUser"). Defaults to SigningName.
	ActionPrefix string
	// XMLNamespace is the xmlns of awsQuery and ec2Query responses, e.g.
	// "https://iam.amazonaws.com/doc/2010-05-08/".
	XMLNamespace string
	// JSONErrorPrefix prefixes APIError.Code in the JSON "__type" of the
	// awsJson protocols, e.g. "com.amazonaws.sqs#".
	JSONErrorPrefix string
	// Global marks services whose state is not regional (IAM): Request.Region
	// still carries the signed region.
	Global bool
	// QueryNamespace, when set on an awsJson service, says the service also
	// speaks awsQuery (SQS did until 2023; older SDKs and CLIs still send
	// form-encoded Action=... requests). A request without X-Amz-Target is
	// then served as ProtocolQuery with this xmlns: the core fills
	// Request.Form and encodes errors as awsQuery (APIError.QueryCode as the
	// code), and the service answers with QueryResult.
	QueryNamespace string
}

// name returns Name or SigningName.
func (i ServiceInfo) name() string {
	if i.Name != "" {
		return i.Name
	}
	return i.SigningName
}

// Service simulates one AWS API.
type Service interface {
	// Info describes the service; it is called once, at registration.
	Info() ServiceInfo
	// Handle serves one authenticated, authorised request. It returns the
	// response to send, or an error: an *APIError is encoded in the
	// service's protocol, anything else is a 500 InternalFailure.
	Handle(ctx context.Context, req *Request) (*Response, error)
}

// Claimer is implemented by services that share a signing name with another
// service (s3control signs as "s3") to claim the requests that are theirs,
// for example by the x-amz-account-id header or the /v20180820/ path.
type Claimer interface {
	Claims(r *http.Request) bool
}

// OperationNamer is implemented by REST services (ProtocolRESTJSON,
// ProtocolRESTXML...) to name the operation of a request from its method,
// path, query and headers before the core applies faults and authorisation
// and records the call. Return "" when the request matches no operation;
// Handle is still called and should return an APIError.
type OperationNamer interface {
	OperationName(req *Request) string
}

// Seeder is implemented by services that take a section of an account in the
// world file. The core calls Seed once per account, after the account's IAM
// state exists, with the account's section named after Info().Name ("ec2",
// "s3"), which may be nil when the account has none. Decode the section with
// DecodeStrict so that unknown keys are errors with line and column, and
// return errors from NodeError so they carry the position.
type Seeder interface {
	Seed(acct *Account, section *yaml.Node) error
}

// Request is one API call as a service sees it. The core fills every field
// before Handle; a service changes only Trail.
type Request struct {
	// HTTP is the incoming request. Its Body has been read: use Body.
	HTTP *http.Request
	// Body is the request body. For S3's aws-chunked uploads
	// (X-Amz-Content-Sha256: STREAMING-*) it is the decoded payload, without
	// chunk framing or trailers.
	Body []byte
	// Form holds the parameters of awsQuery and ec2Query requests (from the
	// form-encoded body, or the query string); nil for other protocols.
	Form url.Values
	// Service is the info of the service handling the request.
	Service ServiceInfo
	// Operation is the API operation name ("CreateUser", "SendMessage").
	Operation string
	// Region is the region from the SigV4 credential scope.
	Region string
	// Caller is the authenticated principal.
	Caller Caller
	// RequestID is the request id sent back in x-amzn-RequestId and bodies.
	RequestID string
	// SourceIP is the caller's IP address as recorded in CloudTrail: the
	// X-Sandbox-Source-Ip header when set, else 127.0.0.1.
	SourceIP string
	// UserAgent is the User-Agent header.
	UserAgent string
	// Time is the sandbox clock at the start of the request.
	Time time.Time
	// Trail describes the call for CloudTrail. The core presets EventSource,
	// EventName and ReadOnly; services set the rest.
	Trail TrailCall
}

// Caller is the principal that signed a request.
type Caller struct {
	// Type is CloudTrail's userIdentity.type: "IAMUser", "AssumedRole" or
	// "Root".
	Type string
	// Account is the 12-digit account id the caller authenticated into.
	Account string
	// ARN is the caller's ARN as GetCallerIdentity returns it
	// (arn:aws:iam::123456789012:user/alice,
	// arn:aws:sts::123456789012:assumed-role/Role/session).
	ARN string
	// PrincipalID is the unique id (AIDA... for users, AROA...:session for
	// assumed roles).
	PrincipalID string
	// AccessKeyID is the key that signed the request (AKIA... or ASIA...).
	AccessKeyID string
	// UserName is the IAM user name for IAMUser callers.
	UserName string
	// RoleName, RoleARN, RoleID and SessionName describe an assumed-role
	// session.
	RoleName    string
	RoleARN     string
	RoleID      string
	SessionName string
	// SessionIssued is when temporary credentials were issued; zero for
	// long-term access keys.
	SessionIssued time.Time
	// MFA is true when the session was created with MFA.
	MFA bool
}

// TrailCall is how a call is described in its CloudTrail record.
type TrailCall struct {
	// EventSource, e.g. "iam.amazonaws.com".
	EventSource string
	// EventName, the operation name by default.
	EventName string
	// ReadOnly is preset from the operation name (Get*, List*, Describe*,
	// Lookup*, Head*) and may be changed by the service.
	ReadOnly bool
	// RequestParameters and ResponseElements are marshalled to JSON as they
	// are (use maps with CloudTrail's lowerCamel keys); nil is null. Never put
	// secrets here (secret access keys, session tokens).
	RequestParameters any
	ResponseElements  any
	// Resources are the resources the call touched, for the record's
	// "resources" and for LookupEvents' ResourceName and ResourceType.
	Resources []TrailResource
	// Skip keeps the call out of CloudTrail (data events such as S3
	// GetObject, which CloudTrail does not record by default).
	Skip bool
	// AlsoIn lists other accounts whose trail records the call too, as seen
	// from outside (userIdentity type AWSAccount): a cross-account
	// AssumeRole is recorded in the role's account as well.
	AlsoIn []string
}

// TrailResource is one resource a call touched.
type TrailResource struct {
	// Type is the CloudFormation-style type, e.g. "AWS::IAM::User",
	// "AWS::IAM::AccessKey", "AWS::EC2::Instance", "AWS::S3::Bucket".
	Type string
	// Name is what LookupEvents shows as ResourceName: a user name, key id,
	// instance id, bucket name.
	Name string
	// ARN is the resource ARN, when it has one.
	ARN string
}

// Response is what a service returns. Status 0 means 200.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// APIError is an error the service returns to the client, encoded in the
// service's protocol by the core.
type APIError struct {
	// Status is the HTTP status; 0 means 400.
	Status int
	// Code is the error code ("NoSuchEntity", "QueueDoesNotExist").
	Code string
	// Message is the human-readable message.
	Message string
	// Receiver marks server-side faults (<Type>Receiver</Type>); the default
	// is Sender.
	Receiver bool
	// QueryCode is the awsQuery-compatible code sent in the
	// x-amzn-query-error header by awsJson services that have the
	// awsQueryCompatible trait (SQS: "AWS.SimpleQueueService.NonExistentQueue").
	// The SDK reports it as the error code.
	QueryCode string
	// Fields are extra elements in REST XML errors (S3 <BucketName>).
	Fields map[string]string
}

func (e *APIError) Error() string {
	return e.Code + ": " + e.Message
}

// Errorf returns an *APIError with status 400.
func Errorf(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorStatus returns an *APIError with the given HTTP status.
func ErrorStatus(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// QueryResult encodes an awsQuery response:
//
//	<OpResponse xmlns="..."><OpResult>result</OpResult>
//	<ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>
//
// result is a struct marshalled with encoding/xml as the content of
// <OpResult> (its own element name is ignored; lists are <member> elements);
// nil omits <OpResult>.
func QueryResult(req *Request, result any) (*Response, error) {
	var b bytes.Buffer
	op := req.Operation
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, op, req.Service.XMLNamespace)
	if result != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}}); err != nil {
			return nil, fmt.Errorf("encode %s result: %w", op, err)
		}
	}
	fmt.Fprintf(&b, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, req.RequestID, op)
	return xmlResponse(http.StatusOK, b.Bytes()), nil
}

// EC2Result encodes an ec2Query response:
//
//	<OpResponse xmlns="..."><requestId>id</requestId>...fields...</OpResponse>
//
// result is a struct whose fields are marshalled with encoding/xml inside
// the response element (lowerCamel element names, lists of <item>); nil
// gives a response with only the request id.
func EC2Result(req *Request, result any) (*Response, error) {
	var inner bytes.Buffer
	if result != nil {
		enc := xml.NewEncoder(&inner)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: "x"}}); err != nil {
			return nil, fmt.Errorf("encode %s result: %w", req.Operation, err)
		}
	}
	body := inner.Bytes()
	// Strip the <x> wrapper: the fields go straight in the response element.
	if len(body) >= len("<x></x>") {
		body = body[len("<x>") : len(body)-len("</x>")]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="%s"><requestId>%s</requestId>`, req.Operation, req.Service.XMLNamespace, req.RequestID)
	b.Write(body)
	fmt.Fprintf(&b, `</%sResponse>`, req.Operation)
	return xmlResponse(http.StatusOK, b.Bytes()), nil
}

// XMLResult encodes v with encoding/xml (under the XML declaration) as a REST
// XML response with the given status (0 means 200). v names its own root
// element.
func XMLResult(status int, v any) (*Response, error) {
	out, err := xml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode xml result: %w", err)
	}
	if status == 0 {
		status = http.StatusOK
	}
	return xmlResponse(status, append([]byte(xml.Header), out...)), nil
}

// JSONResult encodes v as the JSON body of an awsJson or restJson response.
// nil gives "{}".
func JSONResult(v any) (*Response, error) {
	body := []byte("{}")
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("encode json result: %w", err)
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &Response{Status: http.StatusOK, Header: h, Body: body}, nil
}

func xmlResponse(status int, body []byte) *Response {
	h := http.Header{}
	h.Set("Content-Type", "text/xml")
	return &Response{Status: status, Header: h, Body: body}
}
