// Command dimtui is a terminal chat client and station for the Decentralized
// Instant Messaging Protocol (DIMP), with tools to look inside DIM data.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		var quiet silentError
		if !errors.As(err, &quiet) {
			fmt.Fprintln(os.Stderr, "dimtui:", err)
		}
		stop()
		os.Exit(1)
	}
}

// silentError is an error already reported to the user.
type silentError struct{ error }
