package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/firebreak-sec/firebreak/internal/secret"
)

const value = "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

type holder struct {
	Name     string        `json:"name" yaml:"name"`
	Password secret.String `json:"password" yaml:"password"`
	Ptr      *secret.String
}

// TestNeverPrinted renders a secret, alone and inside a struct, through
// every path a value leaves a program by, and fails if the value shows.
func TestNeverPrinted(t *testing.T) {
	s := secret.New(value)
	h := holder{Name: "n", Password: s, Ptr: &s}
	var logs bytes.Buffer
	textLog := slog.New(slog.NewTextHandler(&logs, nil))
	jsonLog := slog.New(slog.NewJSONHandler(&logs, nil))
	textLog.Info("msg", "secret", s, "holder", h)
	jsonLog.Info("msg", "secret", s, "holder", h)
	jsonLog.Info("msg", slog.Any("ptr", &s))

	renders := map[string]func() (string, error){
		"%v":        func() (string, error) { return fmt.Sprintf("%v", s), nil },
		"%+v":       func() (string, error) { return fmt.Sprintf("%+v", s), nil },
		"%#v":       func() (string, error) { return fmt.Sprintf("%#v", s), nil },
		"%s":        func() (string, error) { return fmt.Sprintf("%s", s), nil },
		"%q":        func() (string, error) { return fmt.Sprintf("%q", s), nil },
		"%x":        func() (string, error) { return fmt.Sprintf("%x", s), nil },
		"%d":        func() (string, error) { return fmt.Sprintf("%d", s), nil },
		"struct %v": func() (string, error) { return fmt.Sprintf("%v", h), nil },
		"struct %+v": func() (string, error) {
			return fmt.Sprintf("%+v", h), nil
		},
		"struct %#v": func() (string, error) { return fmt.Sprintf("%#v", h), nil },
		"pointer %v": func() (string, error) { return fmt.Sprintf("%v %s", &s, &s), nil },
		"error wrap": func() (string, error) {
			return fmt.Errorf("connect with %v: %w", s, errors.New("refused")).Error(), nil
		},
		"json": func() (string, error) {
			b, err := json.Marshal(h)
			return string(b), err
		},
		"yaml": func() (string, error) {
			b, err := yaml.Marshal(h)
			return string(b), err
		},
		"text": func() (string, error) {
			b, err := s.MarshalText()
			return string(b), err
		},
		"slog": func() (string, error) { return logs.String(), nil },
	}
	for name, render := range renders {
		t.Run(name, func(t *testing.T) {
			got, err := render()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got, value) || strings.Contains(got, "wJalrXUtnFEMI") {
				t.Errorf("the secret leaked: %s", got)
			}
			if !strings.Contains(got, secret.Redacted) && !strings.Contains(got, `\u003csecret\u003e`) {
				t.Errorf("no %q in %s", secret.Redacted, got)
			}
		})
	}
}

func TestReveal(t *testing.T) {
	s := secret.New(value)
	if got := s.Reveal(); got != value {
		t.Errorf("Reveal() = %q, want the value", got)
	}
	var zero secret.String
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero secret: IsZero %v, String %q; want true and empty", zero.IsZero(), zero.String())
	}
	var back holder
	if err := yaml.Unmarshal([]byte("password: hunter2\n"), &back); err != nil {
		t.Fatal(err)
	}
	if back.Password.Reveal() != "hunter2" {
		t.Errorf("YAML round trip: %q", back.Password.Reveal())
	}
	if err := json.Unmarshal([]byte(`{"password":"hunter3"}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.Password.Reveal() != "hunter3" {
		t.Errorf("JSON round trip: %q", back.Password.Reveal())
	}
}
