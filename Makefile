# Firebreak's everyday commands. `make test` is the one CI runs.
GO ?= go
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

.PHONY: build test lint bench fmt

build:
	$(GO) build -o bin/firebreak ./cmd/firebreak

test:
	scripts/test.sh

lint:
	$(GOLANGCI_LINT) run ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
