package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type pullOptions struct {
	ref      string
	platform string
	quiet    bool
	allTags  bool
}

func newPullCommand(app *cli.App) *cobra.Command {
	var opts pullOptions
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ref = args[0]
			return runPull(cmd.Context(), app, &opts)
		},
		Annotations: map[string]string{"aliases": "image pull, pull"},
	}
	f := cmd.Flags()
	f.StringVar(&opts.platform, "platform", os.Getenv("DOCKER_DEFAULT_PLATFORM"), "Set platform if server is multi-platform capable")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "Suppress verbose output")
	f.BoolVarP(&opts.allTags, "all-tags", "a", false, "Download all tagged images in the repository")
	_ = f.MarkHidden("all-tags")
	f.Bool("disable-content-trust", true, "Skip image verification (no-op)")
	return cmd
}

func runPull(ctx context.Context, app *cli.App, opts *pullOptions) error {
	if opts.allTags {
		return fmt.Errorf("--all-tags is not supported yet")
	}
	ref, err := image.ParseReference(opts.ref)
	if err != nil {
		return err
	}
	platform, err := parsePlatform(opts.platform)
	if err != nil {
		return err
	}
	store, err := app.Images()
	if err != nil {
		return err
	}
	if !opts.quiet && !strings.ContainsAny(lastPathElem(opts.ref), ":@") {
		fmt.Fprintln(app.Out, "Using default tag: latest")
	}
	_, err = pullImage(ctx, app, store, ref, platform, opts.quiet)
	if err != nil {
		return err
	}
	fmt.Fprintln(app.Out, ref.String())
	return nil
}

// pullImage pulls with Docker's progress display (nothing when quiet).
func pullImage(ctx context.Context, app *cli.App, store *image.Store, ref image.Reference, platform *v1.Platform, quiet bool) (*image.PullResult, error) {
	var display *progressDisplay
	po := image.PullOptions{Platform: platform}
	if !quiet {
		display = newProgressDisplay(app.Out)
		po.Progress = display.Send
	}
	res, err := store.Pull(ctx, ref, po)
	if display != nil {
		display.Close()
	}
	if err != nil {
		return nil, err
	}
	if !quiet {
		if res.UpToDate {
			fmt.Fprintf(app.Out, "Status: Image is up to date for %s\n", ref.Familiar())
		} else {
			fmt.Fprintf(app.Out, "Status: Downloaded newer image for %s\n", ref.Familiar())
		}
	}
	return res, nil
}

func parsePlatform(s string) (*v1.Platform, error) {
	if s == "" {
		return nil, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("invalid platform %q: expected os/arch[/variant]", s)
	}
	return p, nil
}

func lastPathElem(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}
