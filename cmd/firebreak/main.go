// Command firebreak is automated security incident response for AWS.
//
// Everything but process setup lives in internal/; see internal/cli for the
// commands and internal/app for the wiring they share.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/firebreak-sec/firebreak/internal/cli"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
