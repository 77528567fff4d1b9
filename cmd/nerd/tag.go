package main

import (
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

func newTagCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTag(app, args[0], args[1])
		},
	}
}

func runTag(app *cli.App, source, target string) error {
	ref, err := image.ParseReference(target)
	if err != nil {
		return err
	}
	if ref.Digest() != "" {
		return image.ErrInvalidReference
	}
	store, err := app.Images()
	if err != nil {
		return err
	}
	return noSuchImage(store.Tag(source, ref), source)
}
