package main

import (
	"net"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/spf13/cobra"
)

type networkConnectOptions struct {
	aliases []string
	ip      string
}

func newNetworkConnectCommand(app *cli.App) *cobra.Command {
	var o networkConnectOptions
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ip != "" {
				if ip := net.ParseIP(o.ip); ip == nil || ip.To4() == nil {
					return cli.FlagError(errInvalidIPv4(o.ip))
				}
			}
			eng, c, err := openContainer(app, args[1])
			if err != nil {
				return err
			}
			err = eng.Connect(cmd.Context(), c, args[0], &container.EndpointConfig{Aliases: o.aliases, IPv4: o.ip})
			return networkError(args[0], err)
		},
	}
	cmd.Flags().StringArrayVar(&o.aliases, "alias", nil, "Add network-scoped alias for the container")
	cmd.Flags().StringVar(&o.ip, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	return cmd
}
