// Command inventoryctl is the operator CLI; see package ctl and the
// README's "Operator CLI".
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/sellable/inventory/ctl"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := ctl.NewRoot(os.Stdout, log).ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "inventoryctl:", err)
		os.Exit(1)
	}
}
