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
			eng, c, err := openContainer(app, args[0])
			if err != nil {
				return err
			}
			ports := eng.PublishedPorts(c)
			if len(args) == 2 {
				port, proto, _ := strings.Cut(args[1], "/")
				if proto == "" {
					proto = "tcp"
				}
				n, err := strconv.ParseUint(port, 10, 16)
				if err != nil {
					return fmt.Errorf("Error: invalid port (%s): %w", port, err)
				}
				found := false
				for _, p := range ports {
					if p.ContainerPort == int(n) && p.Protocol == proto {
						fmt.Fprintf(app.Out, "%s:%d\n", hostIP(p.HostIP), p.HostPort)
						found = true
					}
				}
				if !found {
					return fmt.Errorf("Error: No public port '%s' published for %s", args[1], args[0])
				}
				return nil
			}
			for _, p := range ports {
				fmt.Fprintf(app.Out, "%d/%s -> %s:%d\n", p.ContainerPort, p.Protocol, hostIP(p.HostIP), p.HostPort)
			}
			return nil
		},
	}
}

func hostIP(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}
