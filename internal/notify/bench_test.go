package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// BenchmarkNotify is one whole notification: redact, render, and deliver
// on n channels at once (Slack and webhooks on a local HTTP server).
func BenchmarkNotify(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	tmpl, err := report.Load("")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 4} {
		b.Run(map[int]string{1: "1-channel", 4: "4-channels"}[n], func(b *testing.B) {
			var chans []notify.Channel
			for i := 0; i < n; i++ {
				if i%2 == 0 {
					chans = append(chans, notify.Slack{URL: secret.New(srv.URL + "/services/T/B/X")})
				} else {
					chans = append(chans, notify.Webhook{URL: srv.URL + "/hook", Secret: secret.New("hmac-key-123")})
				}
			}
			nt := &notify.Notifier{Templates: tmpl, Channels: chans}
			bundle := report.Example()
			b.ReportAllocs()
			for b.Loop() {
				d, err := nt.Notify(context.Background(), bundle)
				if err != nil || !d[0].OK {
					b.Fatal(err, d)
				}
			}
		})
	}
}
