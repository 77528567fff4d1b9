package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type loadOptions struct {
	input string
	quiet bool
}

func newLoadCommand(app *cli.App) *cobra.Command {
	var opts loadOptions
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load an image from a tar archive or STDIN",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLoad(cmd.Context(), app, &opts)
		},
	}
	cmd.Flags().StringVarP(&opts.input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "Suppress the load output")
	cmd.Flags().StringSlice("platform", nil, "Load only the given platform (ignored)")
	return cmd
}

func runLoad(ctx context.Context, app *cli.App, opts *loadOptions) error {
	var in io.Reader = app.In
	if opts.input != "" {
		f, err := os.Open(opts.input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else if app.InIsTerminal() {
		return errors.New("requested load from stdin, but stdin is empty")
	}
	store, err := app.Images()
	if err != nil {
		return err
	}
	loaded, err := store.Load(ctx, in, nil)
	for _, l := range loaded {
		if len(l.Names) == 0 {
			fmt.Fprintf(app.Out, "Loaded image ID: %s\n", l.ID)
		}
		for _, n := range l.Names {
			fmt.Fprintf(app.Out, "Loaded image: %s\n", n.Familiar())
		}
	}
	return err
}
