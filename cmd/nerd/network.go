package main

import (
	"errors"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/network"
	"github.com/spf13/cobra"
)

// newNetworkCommand is the `network` management command.
func newNetworkCommand(app *cli.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network",
		Short: "Manage networks",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newNetworkCreateCommand(app),
		newNetworkListCommand(app),
		newNetworkInspectCommand(app),
		newNetworkRemoveCommand(app),
		newNetworkPruneCommand(app),
		newNetworkConnectCommand(app),
		newNetworkDisconnectCommand(app),
	)
	return cmd
}

// networkError is Docker's wording for a network that is not there.
func networkError(ref string, err error) error {
	if errors.Is(err, network.ErrNotFound) {
		return fmt.Errorf("network %s not found", ref)
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, network.ErrNotFound) }
