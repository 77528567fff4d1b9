package main

import (
	"bufio"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type cpOptions struct {
	followLink bool
	archive    bool
	quiet      bool
}

func newCpCommand(app *cli.App) *cobra.Command {
	var opts cpOptions
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t" + app.Name + " cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: `Copy files/folders between a container and the local filesystem

Use '-' as the source to read a tar archive from stdin
and extract it to a directory destination in a container.
Use '-' as the destination to stream a tar archive of a
container source to stdout.`,
		Args:                  exactArgs(2),
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" {
				return errors.New("source can not be empty")
			}
			if args[1] == "" {
				return errors.New("destination can not be empty")
			}
			if !cmd.Flags().Changed("quiet") {
				// Progress only for a user watching a terminal.
				_, isTerm := app.OutIsTerminal()
				opts.quiet = !isTerm
			}
			return runCp(cmd, app, &opts, args[0], args[1])
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.followLink, "follow-link", "L", false, "Always follow symlinks in SRC_PATH")
	f.BoolVarP(&opts.archive, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached")
	return cmd
}

// splitCpArg separates CONTAINER:PATH; a local path with a colon must
// start with "/" or "." to be taken as local (Docker's rule).
func splitCpArg(arg string) (ctr, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	ctr, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, path
}

func runCp(cmd *cobra.Command, app *cli.App, opts *cpOptions, src, dst string) error {
	ctx := cmd.Context()
	srcCtr, srcPath := splitCpArg(src)
	dstCtr, dstPath := splitCpArg(dst)
	switch {
	case srcCtr != "" && dstCtr != "":
		return errors.New("copying between containers is not supported")
	case srcCtr == "" && dstCtr == "":
		return errors.New("must specify at least one container source")
	}
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	copts := engine.CopyOptions{FollowLink: opts.followLink, Archive: opts.archive}
	if srcCtr != "" {
		c, err := getContainer(eng, srcCtr)
		if err != nil {
			return err
		}
		if dstPath == "-" {
			w := bufio.NewWriterSize(app.Out, 1<<20)
			if err := eng.ArchivePath(ctx, c, srcPath, copts, w); err != nil {
				return cpError(err, srcCtr)
			}
			return w.Flush()
		}
		n, err := eng.CopyFromContainer(ctx, c, srcPath, dstPath, copts)
		if err != nil {
			return cpError(err, srcCtr)
		}
		if !opts.quiet {
			abs, _ := filepath.Abs(dstPath)
			fmt.Fprintf(app.Err, "Successfully copied %s to %s\n", formatter.Size(n), abs)
		}
		return nil
	}
	c, err := getContainer(eng, dstCtr)
	if err != nil {
		return err
	}
	if srcPath == "-" {
		return cpError(eng.ExtractToContainer(ctx, c, dstCtr, app.In, dstPath), dstCtr)
	}
	n, dest, err := eng.CopyToContainer(ctx, c, dstCtr, srcPath, dstPath, copts)
	if err != nil {
		return cpError(err, dstCtr)
	}
	if !opts.quiet {
		fmt.Fprintf(app.Err, "Successfully copied %s to %s:%s\n", formatter.Size(n), dstCtr, dest)
	}
	return nil
}

// cpError words a missing path as Docker does.
func cpError(err error, ref string) error {
	var nf *engine.PathNotFoundError
	if errors.As(err, &nf) {
		return fmt.Errorf("Could not find the file %s in container %s", nf.Path, ref)
	}
	return err
}
