package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/nerd-project/nerd/internal/cli"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// newInternalCommand groups what nerd runs of itself (hidden from help).
func newInternalCommand(app *cli.App) *cobra.Command {
	cmd := &cobra.Command{Use: "internal", Hidden: true, Args: noArgs}
	cmd.AddCommand(newOCIHookCommand(app))
	return cmd
}

// newOCIHookCommand is the OCI hook the spec of every container on a
// network carries: createRuntime attaches it (CNI ADD, hosts, DNS),
// poststop detaches it. The runtime passes the OCI state on stdin.
func newOCIHookCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:    "oci-hook EVENT",
		Hidden: true,
		Args:   exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The runtime's helper may hold descriptors it inherited (the
			// monitor's reserved ports): nothing started from here (the
			// DNS responder) may keep them.
			_ = unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
			data, err := io.ReadAll(app.In)
			if err != nil {
				return err
			}
			var st specs.State
			if err := json.Unmarshal(data, &st); err != nil {
				return fmt.Errorf("oci-hook: reading the OCI state: %w", err)
			}
			m, err := app.Networks()
			if err != nil {
				return err
			}
			switch args[0] {
			case "createRuntime":
				return m.Setup(cmd.Context(), st.Bundle, st.Pid)
			case "poststop":
				return m.Teardown(cmd.Context(), st.Bundle)
			}
			return fmt.Errorf("oci-hook: unknown event %q", args[0])
		},
	}
}
