package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

func newPortCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := minArgs(1)(cmd, args); err != nil {
				return err
			}
			return maxArgs(2)(cmd, args)
		},
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := app.Engine()
			if err != nil {
				return err
			}
			if _, err := getContainer(eng, args[0]); err != nil {
				return err
			}
			// No port is published until networking lands: the list is
			// empty, and any port asked for is not published.
			if len(args) == 2 {
				port, _, _ := strings.Cut(args[1], "/")
				if _, err := strconv.ParseUint(port, 10, 16); err != nil {
					return fmt.Errorf("Error: invalid port (%s): %w", port, err)
				}
				return fmt.Errorf("Error: No public port '%s' published for %s", args[1], args[0])
			}
			return nil
		},
	}
}
