// Command dimtui is a terminal chat client and station for the Decentralized
// Instant Messaging Protocol (DIMP), with tools to look inside DIM data.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		printError(os.Stderr, err)
		stop()
		os.Exit(1)
	}
}

// printError reports err on w. An error may quote what a peer or a file
// holds (an ID, a document type), so what a terminal would act on is
// escaped.
func printError(w io.Writer, err error) {
	fmt.Fprintln(w, "dimtui:", escapeUnsafe(err.Error()))
}
