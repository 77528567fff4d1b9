package main

import (
	"errors"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type rmiOptions struct {
	force   bool
	noPrune bool
}

func newRmiCommand(app *cli.App) *cobra.Command {
	cmd := newImageRemoveCommand(app)
	cmd.Use = "rmi [OPTIONS] IMAGE [IMAGE...]"
	cmd.Aliases = nil
	return cmd
}

func newImageRemoveCommand(app *cli.App) *cobra.Command {
	var opts rmiOptions
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] IMAGE [IMAGE...]",
		Aliases: []string{"remove", "rmi"},
		Short:   "Remove one or more images",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRmi(app, &opts, args)
		},
	}
	cmd.Flags().BoolVarP(&opts.force, "force", "f", false, "Force removal of the image")
	cmd.Flags().BoolVar(&opts.noPrune, "no-prune", false, "Do not delete untagged parents")
	return cmd
}

// runRmi removes each image in turn; like Docker it reports every failure
// and exits 1 if any image could not be removed.
func runRmi(app *cli.App, opts *rmiOptions, names []string) error {
	store, err := app.Images()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		items, err := store.Remove(n, image.RemoveOptions{Force: opts.force})
		printDeleteItems(app, items)
		if err != nil {
			errs = append(errs, noSuchImage(err, n))
		}
	}
	return joinErrors(app, errs)
}

func printDeleteItems(app *cli.App, items []image.DeleteItem) {
	for _, it := range items {
		if it.Untagged != "" {
			fmt.Fprintf(app.Out, "Untagged: %s\n", it.Untagged)
		}
		if it.Deleted != "" {
			fmt.Fprintf(app.Out, "Deleted: %s\n", it.Deleted)
		}
	}
}

// noSuchImage words a missing image the way Docker does.
func noSuchImage(err error, name string) error {
	if errors.Is(err, image.ErrNotFound) {
		if ref, perr := image.ParseReference(name); perr == nil && !looksLikeID(name) {
			return fmt.Errorf("No such image: %s", ref.Familiar())
		}
		return fmt.Errorf("No such image: %s", name)
	}
	return err
}

func looksLikeID(s string) bool {
	if len(s) > 7 && s[:7] == "sha256:" {
		return true
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(s) >= 12
}

// joinErrors prints all but the last error and returns the last, so a
// multi-object command shows every failure with one "Error:" line each and
// still exits 1.
func joinErrors(app *cli.App, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintln(app.Err, errorLine(e.Error()))
	}
	return errs[len(errs)-1]
}
