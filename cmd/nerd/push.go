package main

import (
	"context"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type pushOptions struct {
	ref   string
	quiet bool
}

func newPushCommand(app *cli.App) *cobra.Command {
	var opts pushOptions
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ref = args[0]
			return runPush(cmd.Context(), app, &opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "Suppress verbose output")
	cmd.Flags().BoolP("all-tags", "a", false, "Push all tags of an image to the repository (not supported)")
	cmd.Flags().String("platform", "", "Push a platform-specific manifest (ignored: one platform is stored)")
	cmd.Flags().Bool("disable-content-trust", true, "Skip image signing (no-op)")
	return cmd
}

func runPush(ctx context.Context, app *cli.App, opts *pushOptions) error {
	ref, err := image.ParseReference(opts.ref)
	if err != nil {
		return err
	}
	store, err := app.Images()
	if err != nil {
		return err
	}
	po := image.PushOptions{}
	var display *progressDisplay
	if !opts.quiet {
		fmt.Fprintf(app.Out, "The push refers to repository [%s]\n", ref.Name())
		display = newProgressDisplay(app.Out)
		po.Progress = display.Send
	}
	res, err := store.Push(ctx, ref, po)
	if display != nil {
		display.Close()
	}
	if err != nil {
		return err
	}
	if opts.quiet {
		fmt.Fprintln(app.Out, ref.String())
		return nil
	}
	tag := ref.Tag()
	if tag == "" {
		tag = ref.Digest()
	}
	fmt.Fprintf(app.Out, "%s: digest: %s size: %d\n", tag, res.Digest, res.Size)
	return nil
}
