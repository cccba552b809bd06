package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ControlPrefix is the path prefix of the control API. Requests under it are
// not SigV4-signed and not recorded in CloudTrail.
const ControlPrefix = "/_sandbox/"

// SourceIPHeader sets the source IP recorded for a call (scenarios use it to
// play an attacker's address). Without it the source is 127.0.0.1.
const SourceIPHeader = "X-Sandbox-Source-Ip"

// maxBody bounds request bodies (S3's single PUT limit is far larger; the
// sandbox keeps everything in memory).
const maxBody = 64 << 20

func (si sigInfo) credentials(secret, token string) aws.Credentials {
	return aws.Credentials{AccessKeyID: si.accessKeyID, SecretAccessKey: secret, SessionToken: token}
}

func (sb *Sandbox) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		sb.serveControl(w, r)
		return
	}
	st := sb.state()
	start := sb.Now()
	req := &Request{
		HTTP:      r,
		RequestID: sb.ids.UUID(),
		SourceIP:  sourceIP(r),
		UserAgent: r.UserAgent(),
		Time:      start,
	}
	resp, svcIdx, err := sb.handle(r.Context(), st, req)
	info := req.Service
	if svcIdx < 0 {
		info = guessInfo(r)
		req.Service = info
	}
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			// A client that went away (a long poll cut short by shutdown)
			// is not a sandbox failure.
			level := slog.LevelError
			if errors.Is(err, context.Canceled) {
				level = slog.LevelDebug
			}
			sb.log.Log(r.Context(), level, "sandbox: handler failed", "service", info.name(), "operation", req.Operation, "err", err)
			ae = &APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "We encountered an internal error. Please try again.", Receiver: true}
		}
		resp = encodeError(req, ae)
		err = ae
	}
	// Recorded before the answer, so that a client that reads the trail
	// (or the events queue) right after a call finds it there.
	if svcIdx >= 0 && req.Caller.Account != "" && !req.Trail.Skip {
		sb.record(r.Context(), st, req, err)
	}
	writeResponse(w, req, resp)
	sb.log.Debug("sandbox request", "service", info.name(), "operation", req.Operation, "caller", req.Caller.ARN, "status", resp.Status)
}

// handle runs steps 1-4 of the request flow described in service.go. It
// returns the index of the service, or -1 when none was found.
func (sb *Sandbox) handle(ctx context.Context, st *state, req *Request) (*Response, int, error) {
	r := req.HTTP
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, -1, &APIError{Code: "IncompleteBody", Message: "could not read the request body"}
	}
	if len(body) > maxBody {
		return nil, -1, &APIError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge", Message: "request body too large for the sandbox"}
	}
	si, sigErr := parseSig(r)
	idx := -1
	if sigErr == nil {
		idx = st.pick(si.service, r)
		if idx < 0 {
			return nil, -1, &APIError{Code: "UnknownService", Message: fmt.Sprintf("the sandbox does not simulate the service %q", si.service)}
		}
		req.Service = st.infos[idx]
	}
	if sigErr != nil {
		req.Service = guessInfo(r)
		if errors.Is(sigErr, errNoAuth) {
			return nil, -1, missingAuth(req.Service.Protocol)
		}
		return nil, -1, &APIError{Status: http.StatusBadRequest, Code: "IncompleteSignature", Message: sigErr.Error()}
	}
	req.Region = si.region
	req.Body = body
	if isStreaming(si.payloadHash) {
		if req.Body, err = dechunk(body); err != nil {
			return nil, idx, &APIError{Code: "IncompleteBody", Message: err.Error()}
		}
	} else if si.payloadHash != "" && si.payloadHash != "UNSIGNED-PAYLOAD" {
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != si.payloadHash {
			return nil, idx, &APIError{Code: "XAmzContentSHA256Mismatch", Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}
	svc := st.services[idx]
	if err := sb.nameOperation(req, svc); err != nil {
		return nil, idx, err
	}
	req.Trail = TrailCall{EventSource: eventSource(req.Service), EventName: req.Operation, ReadOnly: readOnlyOp(req.Operation)}

	// Authenticate.
	p, ok := st.iam.lookupKey(si.accessKeyID, req.Time)
	if !ok {
		return nil, idx, badKey(req.Service.Protocol)
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if si.presigned {
		token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	if token != p.token {
		return nil, idx, badKey(req.Service.Protocol)
	}
	if !verifySig(ctx, r, body, si, p.secret, p.token) {
		return nil, idx, badSignature(req.Service.Protocol)
	}
	// Signatures are checked against the wall clock, which is what clients
	// sign with, not the sandbox clock (which tests may fix).
	wall := time.Now()
	if si.presigned && wall.After(si.signTime.Add(si.expires)) {
		return nil, idx, &APIError{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Request has expired"}
	}
	if d := wall.Sub(si.signTime); !si.presigned && (d > 15*time.Minute || d < -15*time.Minute) {
		return nil, idx, &APIError{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch", Message: "Signature expired: the request time is more than 15 minutes from the server time."}
	}
	req.Caller = p.caller
	st.iam.touchKey(si.accessKeyID, req.Service, req.Region, req.Time)

	// Authorise: explicit denies only.
	if req.Operation != "" && req.Operation != "GetCallerIdentity" {
		action := actionPrefix(req.Service) + ":" + req.Operation
		if st.iam.denied(req.Caller, action, req.SourceIP, req.Time) {
			return nil, idx, accessDenied(req, action)
		}
	}

	// Faults.
	if err := sb.faults.apply(ctx, req); err != nil {
		return nil, idx, err
	}
	resp, err := svc.Handle(ctx, req)
	if err != nil {
		return nil, idx, err
	}
	if resp == nil {
		resp = &Response{}
	}
	return resp, idx, nil
}

// nameOperation fills req.Form and req.Operation.
func (sb *Sandbox) nameOperation(req *Request, svc Service) error {
	r := req.HTTP
	switch req.Service.Protocol {
	case ProtocolQuery, ProtocolEC2:
		form := r.URL.Query()
		if len(req.Body) > 0 {
			bodyForm, err := url.ParseQuery(string(req.Body))
			if err != nil {
				return &APIError{Code: "MalformedQueryString", Message: "the request body is not form-encoded: " + err.Error()}
			}
			for k, v := range bodyForm {
				form[k] = v
			}
		}
		req.Form = form
		req.Operation = form.Get("Action")
		if req.Operation == "" {
			return &APIError{Code: "MissingAction", Message: "Missing Action"}
		}
	case ProtocolJSON10, ProtocolJSON11:
		target := r.Header.Get("X-Amz-Target")
		if target == "" && req.Service.QueryNamespace != "" {
			req.Service.Protocol, req.Service.XMLNamespace = ProtocolQuery, req.Service.QueryNamespace
			return sb.nameOperation(req, svc)
		}
		// "AmazonSQS.SendMessage"; botocore prefixes the namespace:
		// "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents".
		i := strings.LastIndex(target, ".")
		op := target[i+1:]
		if i < 0 || op == "" {
			return &APIError{Code: "UnknownOperationException", Message: "missing or malformed X-Amz-Target header"}
		}
		req.Operation = op
	default:
		if n, ok := svc.(OperationNamer); ok {
			req.Operation = n.OperationName(req)
		}
	}
	return nil
}

// pick returns the index of the service for a signing name.
func (st *state) pick(signing string, r *http.Request) int {
	cands := st.bySigning[signing]
	fallback := -1
	for _, i := range cands {
		if c, ok := st.services[i].(Claimer); ok {
			if c.Claims(r) {
				return i
			}
			continue
		}
		if fallback < 0 {
			fallback = i
		}
	}
	return fallback
}

// guessInfo picks an error protocol for a request the core could not route.
func guessInfo(r *http.Request) ServiceInfo {
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS"):
		return ServiceInfo{SigningName: "sqs", Protocol: ProtocolJSON10, JSONErrorPrefix: "com.amazonaws.sqs#"}
	case r.Header.Get("X-Amz-Target") != "":
		return ServiceInfo{SigningName: "unknown", Protocol: ProtocolJSON11}
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return ServiceInfo{SigningName: "unknown", Protocol: ProtocolQuery}
	}
	return ServiceInfo{SigningName: "unknown", Protocol: ProtocolRESTXML}
}

func sourceIP(r *http.Request) string {
	if h := strings.TrimSpace(r.Header.Get(SourceIPHeader)); h != "" {
		if ip := net.ParseIP(h); ip != nil {
			return ip.String()
		}
	}
	return "127.0.0.1"
}

func eventSource(info ServiceInfo) string {
	if info.EventSource != "" {
		return info.EventSource
	}
	return info.SigningName + ".amazonaws.com"
}

func actionPrefix(info ServiceInfo) string {
	if info.ActionPrefix != "" {
		return info.ActionPrefix
	}
	return info.SigningName
}

// readOnlyOp guesses CloudTrail's readOnly from the operation name.
func readOnlyOp(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Head", "Receive"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func missingAuth(p Protocol) *APIError {
	switch p {
	case ProtocolRESTXML, ProtocolRESTXMLWrapped:
		return &APIError{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Access Denied"}
	case ProtocolJSON10, ProtocolJSON11, ProtocolRESTJSON:
		return &APIError{Status: http.StatusBadRequest, Code: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"}
	}
	return &APIError{Status: http.StatusForbidden, Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token"}
}

func badKey(p Protocol) *APIError {
	switch p {
	case ProtocolEC2:
		return &APIError{Status: http.StatusUnauthorized, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"}
	case ProtocolRESTXML, ProtocolRESTXMLWrapped:
		return &APIError{Status: http.StatusForbidden, Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records."}
	case ProtocolJSON10, ProtocolJSON11, ProtocolRESTJSON:
		return &APIError{Status: http.StatusBadRequest, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid.", QueryCode: "InvalidClientTokenId"}
	}
	return &APIError{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
}

func badSignature(p Protocol) *APIError {
	if p == ProtocolEC2 {
		return &APIError{Status: http.StatusUnauthorized, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"}
	}
	status := http.StatusForbidden
	if p == ProtocolJSON10 || p == ProtocolJSON11 || p == ProtocolRESTJSON {
		status = http.StatusBadRequest
	}
	return &APIError{Status: status, Code: "SignatureDoesNotMatch", Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
}

func accessDenied(req *Request, action string) *APIError {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s with an explicit deny in an identity-based policy", req.Caller.ARN, action)
	switch req.Service.Protocol {
	case ProtocolEC2:
		return &APIError{Status: http.StatusForbidden, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. " + msg}
	case ProtocolJSON10, ProtocolJSON11, ProtocolRESTJSON:
		return &APIError{Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: msg, QueryCode: "AccessDenied"}
	}
	return &APIError{Status: http.StatusForbidden, Code: "AccessDenied", Message: msg}
}

// encodeError renders ae in the protocol of req.Service.
func encodeError(req *Request, ae *APIError) *Response {
	status := ae.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	h := http.Header{}
	var b bytes.Buffer
	fault := "Sender"
	if ae.Receiver {
		fault = "Receiver"
	}
	switch req.Service.Protocol {
	case ProtocolEC2:
		h.Set("Content-Type", "text/xml")
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			xmlEscape(ae.Code), xmlEscape(ae.Message), req.RequestID)
	case ProtocolJSON10, ProtocolJSON11:
		ct := "application/x-amz-json-1.0"
		if req.Service.Protocol == ProtocolJSON11 {
			ct = "application/x-amz-json-1.1"
		}
		h.Set("Content-Type", ct)
		if ae.QueryCode != "" {
			h.Set("X-Amzn-Query-Error", ae.QueryCode+";"+fault)
		}
		out, _ := json.Marshal(map[string]string{"__type": req.Service.JSONErrorPrefix + ae.Code, "message": ae.Message})
		b.Write(out)
	case ProtocolRESTJSON:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-ErrorType", ae.Code)
		out, _ := json.Marshal(map[string]string{"message": ae.Message})
		b.Write(out)
	case ProtocolRESTXML, ProtocolRESTXMLWrapped:
		h.Set("Content-Type", "application/xml")
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		if req.Service.Protocol == ProtocolRESTXMLWrapped {
			b.WriteString("<ErrorResponse>")
		}
		fmt.Fprintf(&b, "<Error><Code>%s</Code><Message>%s</Message>", xmlEscape(ae.Code), xmlEscape(ae.Message))
		for _, k := range sortedKeys(ae.Fields) {
			fmt.Fprintf(&b, "<%s>%s</%s>", k, xmlEscape(ae.Fields[k]), k)
		}
		if req.Service.Protocol == ProtocolRESTXMLWrapped {
			b.WriteString("</Error>")
		}
		fmt.Fprintf(&b, "<RequestId>%s</RequestId><HostId>%s</HostId>", req.RequestID, hostID(req.RequestID))
		if req.Service.Protocol == ProtocolRESTXMLWrapped {
			b.WriteString("</ErrorResponse>")
		} else {
			b.WriteString("</Error>")
		}
	default:
		h.Set("Content-Type", "text/xml")
		code := ae.Code
		if ae.QueryCode != "" {
			code = ae.QueryCode
		}
		fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			req.Service.XMLNamespace, fault, xmlEscape(code), xmlEscape(ae.Message), req.RequestID)
	}
	return &Response{Status: status, Header: h, Body: b.Bytes()}
}

func hostID(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return hex.EncodeToString(sum[:16])
}

func writeResponse(w http.ResponseWriter, req *Request, resp *Response) {
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.Header().Set("X-Amzn-Requestid", req.RequestID)
	if p := req.Service.Protocol; p == ProtocolRESTXML || p == ProtocolRESTXMLWrapped {
		w.Header().Set("X-Amz-Request-Id", req.RequestID)
		w.Header().Set("X-Amz-Id-2", hostID(req.RequestID))
	}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	if w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", fmt.Sprint(len(resp.Body)))
	}
	w.WriteHeader(resp.Status)
	if req.HTTP.Method != http.MethodHead {
		_, _ = w.Write(resp.Body)
	}
}
