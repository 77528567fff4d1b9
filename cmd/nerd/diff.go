package main

import (
	"bufio"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

func newDiffCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:                   "diff CONTAINER",
		Short:                 "Inspect changes to files or directories on a container's filesystem",
		Args:                  exactArgs(1),
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, c, err := openContainer(app, args[0])
			if err != nil {
				return err
			}
			changes, err := eng.Changes(c)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(app.Out)
			for _, ch := range changes {
				w.WriteString(ch.Kind.String() + " " + ch.Path + "\n")
			}
			return w.Flush()
		},
	}
}
