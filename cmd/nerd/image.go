package main

import (
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

// newImageCommand is the `image` management command; its subcommands are
// the same commands as the top-level short forms.
func newImageCommand(app *cli.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	inspect := newImageInspectCommand(app)
	cmd.AddCommand(
		newImageListCommand(app),
		newPullCommand(app),
		newPushCommand(app),
		inspect,
		newImageRemoveCommand(app),
		newTagCommand(app),
		newImagePruneCommand(app),
		newHistoryCommand(app),
		newSaveCommand(app),
		newLoadCommand(app),
	)
	return cmd
}
