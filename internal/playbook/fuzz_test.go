package playbook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/firebreak-sec/firebreak/internal/event"
)

// FuzzCompile feeds hostile YAML to the decoder and compiler: it must
// never panic, and must either return a plan or an ErrorList whose every
// error names the file. The seeds are every fixture and golden playbook,
// plus alias bombs and deep nesting.
func FuzzCompile(f *testing.F) {
	reg := testRegistry(f)
	paths, _ := filepath.Glob("testdata/errors/*.txtar")
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if file.Name != "errors" {
				f.Add(file.Data)
			}
		}
	}
	plans, _ := filepath.Glob("testdata/plans/*.yaml")
	builtins, _ := filepath.Glob("builtin/*.yaml")
	for _, p := range append(plans, builtins...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("trigger: &x {a: [*x, *x]}\n"))
	f.Add([]byte(strings.Repeat("[", 5000) + strings.Repeat("]", 5000)))
	f.Add([]byte("name: x\ntrigger: {source: [a]}\nsteps:\n  - {id: a, action: core.log, with: {message: \"${{ '}}' }}\"}}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Compile(reg, "fuzz.yaml", data)
		if err == nil {
			if p == nil || p.Name() == "" || len(p.Steps()) == 0 || len(p.Triggers()) == 0 {
				t.Fatalf("Compile succeeded with an incomplete plan: %v", p)
			}
			_ = p.String()
			in, ierr := NewInput(decodeSampleF(t), Incident{ID: "i"})
			if ierr != nil {
				t.Fatal(ierr)
			}
			ctx := context.Background()
			_, _ = p.Matches(ctx, in)
			for _, s := range p.Steps() {
				items, err := s.Items(ctx, in)
				if err != nil {
					continue
				}
				for _, it := range items {
					_, _ = s.Enabled(ctx, in, it)
					_, _ = s.Resolve(ctx, in, it)
				}
			}
			return
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is not a non-empty ErrorList: %v", err)
		}
		for _, e := range list {
			if !strings.HasPrefix(e.Error(), "fuzz.yaml") || e.Msg == "" {
				t.Fatalf("error without file or message: %q", e.Error())
			}
		}
	})
}

func decodeSampleF(t *testing.T) *event.Event {
	return decodeSample(t, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json")
}
