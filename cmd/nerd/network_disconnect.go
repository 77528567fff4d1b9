package main

import (
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type networkDisconnectOptions struct {
	force bool
}

func newNetworkDisconnectCommand(app *cli.App) *cobra.Command {
	var o networkDisconnectOptions
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, c, err := openContainer(app, args[1])
			if err != nil {
				return err
			}
			return networkError(args[0], eng.Disconnect(cmd.Context(), c, args[0], o.force))
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "Force the container to disconnect from a network")
	return cmd
}

func errInvalidIPv4(s string) error { return fmt.Errorf("invalid IPv4 address: %s", s) }
