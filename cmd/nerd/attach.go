package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type attachOptions struct {
	noStdin    bool
	sigProxy   bool
	detachKeys string
}

func newAttachCommand(app *cli.App) *cobra.Command {
	var opts attachOptions
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttach(cmd.Context(), app, &opts, args[0])
		},
	}
	cmd.Flags().BoolVar(&opts.noStdin, "no-stdin", false, "Do not attach STDIN")
	cmd.Flags().BoolVar(&opts.sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	cmd.Flags().StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func runAttach(ctx context.Context, app *cli.App, opts *attachOptions, ref string) error {
	eng, c, err := openContainer(app, ref)
	if err != nil {
		return err
	}
	if !c.State.Running() {
		return errors.New("You cannot attach to a stopped container, start it first")
	}
	if c.State.Status == "paused" {
		return fmt.Errorf("You cannot attach to a paused container, unpause it first")
	}
	code, err := attachAndWait(ctx, app, eng, c, streamOptions{
		stdin: !opts.noStdin && c.Config.OpenStdin, tty: c.Config.Tty, sigProxy: opts.sigProxy, detachKeys: opts.detachKeys,
	})
	return sessionResult(code, err)
}
