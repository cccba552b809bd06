package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Email is a message sent through SES v2 (or an SNS email subscription),
// kept in the outbox instead of being delivered.
type Email struct {
	MessageID string    `json:"message_id"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Time      time.Time `json:"time"`
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Cc        []string  `json:"cc,omitempty"`
	Bcc       []string  `json:"bcc,omitempty"`
	ReplyTo   []string  `json:"reply_to,omitempty"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text,omitempty"`
	HTML      string    `json:"html,omitempty"`
	// Raw is the MIME message of a raw send.
	Raw []byte `json:"raw,omitempty"`
}

// sesService simulates SES v2's SendEmail over restJson1.
type sesService struct {
	sb *Sandbox

	mu     sync.Mutex
	outbox []Email
}

func newSESService(sb *Sandbox) Service { return &sesService{sb: sb} }

func (s *sesService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "ses", Protocol: ProtocolRESTJSON, EventSource: "ses.amazonaws.com"}
}

func (s *sesService) OperationName(req *Request) string {
	if req.HTTP.Method == http.MethodPost && strings.TrimSuffix(req.HTTP.URL.Path, "/") == "/v2/email/outbound-emails" {
		return "SendEmail"
	}
	return ""
}

type sesContent struct {
	Data    string `json:"Data"`
	Charset string `json:"Charset"`
}

func (s *sesService) Handle(ctx context.Context, req *Request) (*Response, error) {
	if req.Operation != "SendEmail" {
		return nil, ErrorStatus(http.StatusNotFound, "NotFoundException", "The sandbox does not simulate SES v2 %s %s.", req.HTTP.Method, req.HTTP.URL.Path)
	}
	var in struct {
		FromEmailAddress string `json:"FromEmailAddress"`
		Destination      struct {
			ToAddresses  []string `json:"ToAddresses"`
			CcAddresses  []string `json:"CcAddresses"`
			BccAddresses []string `json:"BccAddresses"`
		} `json:"Destination"`
		ReplyToAddresses []string `json:"ReplyToAddresses"`
		Content          struct {
			Simple *struct {
				Subject sesContent `json:"Subject"`
				Body    struct {
					Text *sesContent `json:"Text"`
					HTML *sesContent `json:"Html"`
				} `json:"Body"`
			} `json:"Simple"`
			Raw *struct {
				Data []byte `json:"Data"`
			} `json:"Raw"`
			Template *json.RawMessage `json:"Template"`
		} `json:"Content"`
	}
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "could not parse the request body: %v", err)
	}
	e := Email{Account: req.Caller.Account, Region: req.Region, Time: req.Time, From: in.FromEmailAddress,
		To: in.Destination.ToAddresses, Cc: in.Destination.CcAddresses, Bcc: in.Destination.BccAddresses, ReplyTo: in.ReplyToAddresses}
	switch c := in.Content; {
	case c.Simple != nil:
		e.Subject = c.Simple.Subject.Data
		if c.Simple.Body.Text != nil {
			e.Text = c.Simple.Body.Text.Data
		}
		if c.Simple.Body.HTML != nil {
			e.HTML = c.Simple.Body.HTML.Data
		}
		if e.Subject == "" || (e.Text == "" && e.HTML == "") {
			return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "Simple content needs a subject and a text or HTML body.")
		}
	case c.Raw != nil:
		e.Raw = c.Raw.Data
		if len(e.Raw) == 0 {
			return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "Raw content is empty.")
		}
	case c.Template != nil:
		return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "The sandbox does not simulate templated email.")
	default:
		return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "Content is required.")
	}
	if e.From == "" && e.Raw == nil {
		return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "FromEmailAddress is required.")
	}
	if len(e.To)+len(e.Cc)+len(e.Bcc) == 0 && e.Raw == nil {
		return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "Destination must have at least one address.")
	}
	if len(e.To)+len(e.Cc)+len(e.Bcc) > 50 {
		return nil, ErrorStatus(http.StatusBadRequest, "BadRequestException", "Recipient count exceeds 50.")
	}
	e.MessageID = "0100" + s.sb.ids.Hex("", 12) + "-" + s.sb.ids.UUID() + "-000000"
	s.add(e)
	req.Trail.RequestParameters = map[string]any{"fromEmailAddress": e.From, "destination": map[string]any{"toAddresses": e.To}}
	req.Trail.ResponseElements = map[string]any{"messageId": e.MessageID}
	return JSONResult(map[string]string{"MessageId": e.MessageID})
}

func (s *sesService) add(e Email) {
	s.mu.Lock()
	s.outbox = append(s.outbox, e)
	s.mu.Unlock()
}

// Outbox returns the emails sent so far, oldest first.
func (sb *Sandbox) Outbox() []Email {
	s := sb.state().ses
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Email(nil), s.outbox...)
}
