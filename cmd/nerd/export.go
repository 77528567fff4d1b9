package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type exportOptions struct {
	output string
}

func newExportCommand(app *cli.App) *cobra.Command {
	var opts exportOptions
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] CONTAINER",
		Short: "Export a container's filesystem as a tar archive",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd, app, &opts, args[0])
		},
	}
	cmd.Flags().StringVarP(&opts.output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// runExport writes to a temp file renamed into place with -o, so a failed
// export never leaves a truncated archive behind.
func runExport(cmd *cobra.Command, app *cli.App, opts *exportOptions, ref string) error {
	if opts.output == "" {
		if _, isTerm := app.OutIsTerminal(); isTerm {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
	} else if dir := filepath.Dir(filepath.Clean(opts.output)); dir != "." {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("failed to export container: invalid output path: directory %q does not exist", dir)
		}
	}
	eng, c, err := openContainer(app, ref)
	if err != nil {
		return err
	}
	return writeArchive(app, opts.output, "export container", func(w io.Writer) error {
		return eng.Export(cmd.Context(), c, w)
	})
}
