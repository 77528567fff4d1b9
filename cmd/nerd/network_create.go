package main

import (
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/opts"
	"github.com/nerd-project/nerd/pkg/network"
	"github.com/spf13/cobra"
)

type networkCreateOptions struct {
	driver   string
	subnets  []string
	gateways []string
	ipRanges []string
	internal bool
	labels   []string
	options  []string
}

func newNetworkCreateCommand(app *cli.App) *cobra.Command {
	var o networkCreateOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkCreate(cmd, app, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.driver, "driver", "d", "bridge", "Driver to manage the Network")
	f.StringArrayVar(&o.subnets, "subnet", nil, "Subnet in CIDR format that represents a network segment")
	f.StringArrayVar(&o.gateways, "gateway", nil, "IPv4 or IPv6 Gateway for the master subnet")
	f.StringArrayVar(&o.ipRanges, "ip-range", nil, "Allocate container ip from a sub-range")
	f.BoolVar(&o.internal, "internal", false, "Restrict external access to the network")
	f.StringArrayVar(&o.labels, "label", nil, "Set metadata on a network")
	f.StringArrayVarP(&o.options, "opt", "o", nil, "Set driver specific options")
	return cmd
}

func runNetworkCreate(cmd *cobra.Command, app *cli.App, name string, o *networkCreateOptions) error {
	if len(o.subnets) > 1 || len(o.gateways) > 1 || len(o.ipRanges) > 1 {
		return cli.FlagError(fmt.Errorf("nerd supports one IPv4 subnet per network"))
	}
	first := func(l []string) string {
		if len(l) == 0 {
			return ""
		}
		return l[0]
	}
	labels, err := opts.MergeLabels(nil, o.labels)
	if err != nil {
		return cli.FlagError(err)
	}
	options := map[string]string{}
	for _, kv := range o.options {
		k, v, _ := cutKV(kv)
		options[k] = v
	}
	m, err := app.Networks()
	if err != nil {
		return err
	}
	n, err := m.Create(cmd.Context(), network.CreateOptions{
		Name: name, Driver: o.driver, Subnet: first(o.subnets), Gateway: first(o.gateways), IPRange: first(o.ipRanges),
		Internal: o.internal, Labels: labels, Options: options,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(app.Out, n.ID)
	return nil
}

func cutKV(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
