package main

import (
	"fmt"
	"runtime"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/spf13/cobra"
)

func newVersionCommand(app *cli.App) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the nerd version information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo{Client: clientVersion{
				Version: cli.Version, APIVersion: "1.47", GoVersion: runtime.Version(), GitCommit: cli.GitCommit,
				Os: runtime.GOOS, Arch: runtime.GOARCH, Platform: struct{ Name string }{"nerd (daemonless)"},
			}}
			if format != "" {
				if format == "json" {
					format = "{{json .}}"
				}
				tmpl, err := formatter.ParseTemplate(format)
				if err != nil {
					return err
				}
				if err := tmpl.Execute(app.Out, v); err != nil {
					return fmt.Errorf("template parsing error: %w", err)
				}
				fmt.Fprintln(app.Out)
				return nil
			}
			c := v.Client
			fmt.Fprintf(app.Out, "Client:\n Version:           %s\n API version:       %s\n Go version:        %s\n Git commit:        %s\n OS/Arch:           %s/%s\n Engine:            in-process (no daemon)\n",
				c.Version, c.APIVersion, c.GoVersion, c.GitCommit, c.Os, c.Arch)
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Format output using a custom template")
	return cmd
}

type clientVersion struct {
	Platform   struct{ Name string }
	Version    string
	APIVersion string `json:"ApiVersion"`
	GoVersion  string
	GitCommit  string
	Os         string
	Arch       string
}

// versionInfo has Docker's shape ({{.Client.Version}}); there is no Server.
type versionInfo struct {
	Client clientVersion
	Server *struct{} `json:",omitempty"`
}
