package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type execOptions struct {
	interactive bool
	tty         bool
	detach      bool
	env         []string
	envFile     []string
	workdir     string
	user        string
	privileged  bool
	detachKeys  string
}

func newExecCommand(app *cli.App) *cobra.Command {
	var opts execOptions
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Args:  minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), app, &opts, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&opts.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	f.BoolVarP(&opts.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	f.BoolVarP(&opts.detach, "detach", "d", false, "Detached mode: run command in the background")
	f.StringArrayVarP(&opts.env, "env", "e", nil, "Set environment variables")
	f.StringArrayVar(&opts.envFile, "env-file", nil, "Read in a file of environment variables")
	f.StringVarP(&opts.workdir, "workdir", "w", "", "Working directory inside the container")
	f.StringVarP(&opts.user, "user", "u", "", "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
	f.BoolVar(&opts.privileged, "privileged", false, "Give extended privileges to the command")
	f.StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func runExec(ctx context.Context, app *cli.App, opts *execOptions, ref string, args []string) error {
	eng, c, err := openContainer(app, ref)
	if err != nil {
		return err
	}
	if c.State.Status == container.StatusPaused {
		return fmt.Errorf("container %s is paused, unpause the container before exec", c.ID)
	}
	if !c.State.Running() {
		return fmt.Errorf("container %s is not running", c.ID)
	}
	env, err := buildEnv(opts.env, opts.envFile)
	if err != nil {
		return cli.FlagError(err)
	}
	proc, err := eng.ExecProcess(c, engine.ExecConfig{
		Args: args, Env: env, WorkingDir: opts.workdir, User: opts.user, Tty: opts.tty, Privileged: opts.privileged,
	})
	if err != nil {
		return execStartError(err)
	}
	cl, err := container.Dial(c.Paths)
	if err != nil {
		return err
	}
	s, err := cl.Exec(ctx, proc, container.ExecOptions{Detach: opts.detach, Stdin: opts.interactive})
	if err != nil {
		if opts.detach {
			return runError(err)
		}
		return execStartError(err)
	}
	if opts.detach {
		return s.Close()
	}
	defer s.Close()
	code, err := streamContainer(ctx, app, eng, c, s, streamOptions{stdin: opts.interactive, tty: opts.tty, detachKeys: opts.detachKeys})
	return sessionResult(code, err)
}

// execStartError is an exec whose process could not be started (a user or
// working directory that does not exist, …): dockerd records exit code 126
// for it, 127 when the command is not found. A container that stopped
// meanwhile is an ordinary failure (1).
func execStartError(err error) error {
	var re *container.RequestError
	switch {
	case errors.As(err, &re) && re.Code != 0:
		return &cli.StatusError{Status: re.Msg, Code: re.Code}
	case errors.Is(err, container.ErrNotRunning), errors.Is(err, container.ErrNoMonitor), errors.Is(err, context.Canceled):
		return err
	}
	return &cli.StatusError{Status: err.Error(), Code: 126}
}
