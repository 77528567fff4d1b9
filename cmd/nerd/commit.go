package main

import (
	"errors"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type commitOptions struct {
	pause   bool
	comment string
	author  string
	changes []string
}

func newCommitCommand(app *cli.App) *cobra.Command {
	var opts commitOptions
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short: "Create a new image from a container's changes",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := minArgs(1)(cmd, args); err != nil {
				return err
			}
			return maxArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) > 1 {
				ref = args[1]
			}
			return runCommit(cmd, app, &opts, args[0], ref)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&opts.pause, "pause", "p", true, "Pause container during commit")
	f.StringVarP(&opts.comment, "message", "m", "", "Commit message")
	f.StringVarP(&opts.author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	f.StringArrayVarP(&opts.changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	return cmd
}

func runCommit(cmd *cobra.Command, app *cli.App, opts *commitOptions, ctrRef, imageRef string) error {
	var name *image.Reference
	if imageRef != "" {
		ref, err := image.ParseReference(imageRef)
		if err != nil {
			return err
		}
		if ref.Digest() != "" {
			return errors.New("refusing to create a tag with a digest reference")
		}
		name = &ref
	}
	eng, c, err := openContainer(app, ctrRef)
	if err != nil {
		return err
	}
	img, err := eng.Commit(cmd.Context(), c, engine.CommitOptions{
		Reference: name,
		Author:    opts.author,
		Comment:   opts.comment,
		Changes:   opts.changes,
		Pause:     opts.pause,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(app.Out, img.ID.String())
	return nil
}
