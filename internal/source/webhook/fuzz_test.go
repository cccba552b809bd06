package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/source/webhook"
)

// FuzzParseSNS: any body either fails with a field-naming error or gives a
// message with its type's required fields, whose canonical string holds
// every one of them.
func FuzzParseSNS(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"{}","Timestamp":"2026-01-01T00:00:00Z","SignatureVersion":"1","Signature":"AA==","SigningCertURL":"https://sns.us-east-1.amazonaws.com/c.pem"}`))
	f.Add([]byte(`{"Type":"SubscriptionConfirmation","MessageId":"m","Token":"x","TopicArn":"t","Message":"m","SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"2026-01-01T00:00:00Z","SignatureVersion":"2","Signature":"AA==","SigningCertURL":"https://x"}`))
	f.Add([]byte(`{"Type":"Other"}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := webhook.ParseSNS(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sns message: ") {
				t.Errorf("error %q does not say what it was decoding", err)
			}
			return
		}
		s := m.StringToSign()
		for _, v := range []string{m.MessageID, m.TopicARN, m.Timestamp, m.Type} {
			if !strings.Contains(s, "\n"+v+"\n") {
				t.Errorf("canonical string %q lacks %q", s, v)
			}
		}
		if m.StringToSign() != s {
			t.Error("canonical string not deterministic")
		}
	})
}

// FuzzHMAC: a header SignHMAC made always verifies for its body and never
// for another; arbitrary headers never panic.
func FuzzHMAC(f *testing.F) {
	f.Add("t=1,v1=00", []byte("{}"), []byte("{ }"))
	f.Add("v1=zz,t=x", []byte(""), []byte("a"))
	f.Add(",,=", []byte("x"), []byte("x"))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, header string, body, other []byte) {
		_ = webhook.VerifyHMAC("k", header, body, now, time.Minute)
		sig := webhook.SignHMAC("k", body, now)
		if err := webhook.VerifyHMAC("k", sig, body, now, time.Minute); err != nil {
			t.Errorf("own signature rejected: %v", err)
		}
		if !bytes.Equal(body, other) {
			if err := webhook.VerifyHMAC("k", sig, other, now, time.Minute); err == nil {
				t.Errorf("signature of %q accepted for %q", body, other)
			}
		}
	})
}

// FuzzServe: whatever arrives, the handler answers with one of its
// documented statuses and never hands unauthenticated input to the sink.
func FuzzServe(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification"}`), "Notification", "", "")
	f.Add([]byte(`{"source":"aws.health","detail-type":"x","detail":{}}`), "", "Bearer nope", "")
	f.Add([]byte(`{}`), "", "", "t=1,v1=00")
	f.Fuzz(func(t *testing.T, body []byte, snsType, auth, sig string) {
		fx := newFixture(t)
		req := httptest.NewRequest(http.MethodPost, "/events", bytes.NewReader(body))
		for k, v := range map[string]string{"x-amz-sns-message-type": snsType, "Authorization": auth, webhook.SignatureHeader: sig} {
			if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		switch rec.Code {
		case 400, 401, 403, 413:
		case 200:
			t.Errorf("unauthenticated request accepted: %s", rec.Body)
		default:
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		if len(fx.sink.ids) > 0 {
			t.Errorf("sink received %v", fx.sink.ids)
		}
	})
}
