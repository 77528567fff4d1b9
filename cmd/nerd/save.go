package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type saveOptions struct {
	images []string
	output string
}

func newSaveCommand(app *cli.App) *cobra.Command {
	var opts saveOptions
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.images = args
			return runSave(app, &opts)
		},
	}
	cmd.Flags().StringVarP(&opts.output, "output", "o", "", "Write to a file, instead of STDOUT")
	cmd.Flags().StringSlice("platform", nil, "Save only the given platform (ignored: one platform is stored)")
	return cmd
}

// runSave writes to a temp file renamed into place, so a failed save never
// leaves a truncated archive where the user asked for one.
func runSave(app *cli.App, opts *saveOptions) error {
	if opts.output == "" {
		if _, isTerm := app.OutIsTerminal(); isTerm {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
	}
	store, err := app.Images()
	if err != nil {
		return err
	}
	for _, n := range opts.images {
		if _, err := store.Get(n); err != nil {
			return noSuchImage(err, n)
		}
	}
	if opts.output != "" {
		dir := filepath.Dir(opts.output)
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("failed to save image: invalid output path: directory %q does not exist", dir)
		}
	}
	return writeArchive(app, opts.output, "save image", func(w io.Writer) error {
		return store.Save(opts.images, w)
	})
}

// writeArchive streams write to stdout, or to path through a temp file
// renamed into place, so a failed save/export never leaves a truncated
// archive where the user asked for one.
func writeArchive(app *cli.App, path, what string, write func(io.Writer) error) error {
	if path == "" {
		w := bufio.NewWriterSize(app.Out, 1<<20)
		if err := write(w); err != nil {
			return err
		}
		return w.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".nerd-archive-*")
	if err != nil {
		return fmt.Errorf("failed to %s: %w", what, err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(w); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	_ = os.Chmod(tmp.Name(), 0o644)
	return os.Rename(tmp.Name(), path)
}
