package report_test

import (
	"testing"

	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

func BenchmarkRender(b *testing.B) {
	tmpl, err := report.Load("")
	if err != nil {
		b.Fatal(err)
	}
	bundle := report.Example()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(bundle); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	bundle := report.Example()
	known := []secret.String{secret.New("https://hooks.slack.com/services/T0/B0/abcdefabcdef"), secret.New("smtp-password-123"), secret.New("sk-abcdefabcdef")}
	b.ReportAllocs()
	for b.Loop() {
		_ = bundle.Redact(known...)
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := report.Load(""); err != nil {
			b.Fatal(err)
		}
	}
}
