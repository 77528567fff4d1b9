package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/term"
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/image/registry"
	"github.com/spf13/cobra"
)

type loginOptions struct {
	server        string
	username      string
	password      string
	passwordStdin bool
}

func newLoginCommand(app *cli.App) *cobra.Command {
	var opts loginOptions
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Authenticate to a registry",
		Long:  "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.server = args[0]
			}
			return runLogin(cmd.Context(), app, &opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.username, "username", "u", "", "Username")
	f.StringVarP(&opts.password, "password", "p", "", "Password or Personal Access Token (PAT)")
	f.BoolVar(&opts.passwordStdin, "password-stdin", false, "Take the Password or Personal Access Token (PAT) from stdin")
	return cmd
}

func runLogin(ctx context.Context, app *cli.App, opts *loginOptions) error {
	if opts.password != "" {
		fmt.Fprintln(app.Err, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
		if opts.passwordStdin {
			return errors.New("--password and --password-stdin are mutually exclusive")
		}
	}
	if opts.passwordStdin {
		if opts.username == "" {
			return errors.New("Must provide --username with --password-stdin")
		}
		data, err := io.ReadAll(app.In)
		if err != nil {
			return err
		}
		opts.password = strings.TrimRight(string(data), "\r\n")
	}
	in := bufio.NewReader(app.In)
	if opts.username == "" {
		if !app.InIsTerminal() {
			return errors.New("Cannot perform an interactive login from a non TTY device")
		}
		fmt.Fprint(app.Out, "Username: ")
		line, _ := in.ReadString('\n')
		opts.username = strings.TrimSpace(line)
	}
	if opts.password == "" {
		if !app.InIsTerminal() {
			return errors.New("Cannot perform an interactive login from a non TTY device")
		}
		fmt.Fprint(app.Out, "Password: ")
		fd, _ := term.GetFdInfo(app.In)
		if state, err := term.SaveState(fd); err == nil {
			if term.DisableEcho(fd, state) == nil {
				defer term.RestoreTerminal(fd, state)
			}
		}
		line, _ := in.ReadString('\n')
		fmt.Fprintln(app.Out)
		opts.password = strings.TrimRight(line, "\r\n")
	}
	err := registry.Login(ctx, app.Global.DockerConfig, opts.server, opts.username, opts.password, registry.WithHosts(app.Hosts()))
	if err != nil {
		return err
	}
	fmt.Fprintln(app.Out, "Login Succeeded")
	return nil
}

func newLogoutCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) > 0 {
				server = args[0]
			}
			key, err := registry.Logout(app.Global.DockerConfig, server)
			if errors.Is(err, registry.ErrNotLoggedIn) {
				fmt.Fprintf(app.Out, "Not logged in to %s\n", key)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Out, "Removing login credentials for %s\n", key)
			return nil
		},
	}
}
