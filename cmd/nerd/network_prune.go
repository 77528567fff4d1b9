package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/network"
	"github.com/spf13/cobra"
)

type networkPruneOptions struct {
	force   bool
	filters []string
}

func newNetworkPruneCommand(app *cli.App) *cobra.Command {
	var o networkPruneOptions
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			keep, err := pruneNetworkFilter(o.filters)
			if err != nil {
				return err
			}
			if !o.force && !confirm(app, "WARNING! This will remove all custom networks not used by at least one container.") {
				return nil
			}
			m, err := app.Networks()
			if err != nil {
				return err
			}
			removed, err := m.Prune(cmd.Context(), keep)
			if len(removed) > 0 {
				fmt.Fprintln(app.Out, "Deleted Networks:")
				for _, n := range removed {
					fmt.Fprintln(app.Out, n)
				}
				fmt.Fprintln(app.Out)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&o.filters, "filter", nil, "Provide filter values (e.g. \"until=<timestamp>\")")
	return cmd
}

// pruneNetworkFilter reads label=, label!= and until= into a "keep" test.
func pruneNetworkFilter(fs []string) (func(*network.Network) bool, error) {
	var keeps []func(*network.Network) bool
	for _, f := range fs {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		neg := strings.HasSuffix(k, "!")
		k = strings.TrimSuffix(k, "!")
		switch k {
		case "label":
			lk, lv, hasV := strings.Cut(v, "=")
			keeps = append(keeps, func(n *network.Network) bool {
				got, ok := n.Labels[lk]
				match := ok && (!hasV || got == lv)
				return match == neg
			})
		case "until":
			d, err := time.ParseDuration(v)
			var t time.Time
			if err == nil {
				t = time.Now().Add(-d)
			} else if t, err = time.Parse(time.RFC3339, v); err != nil {
				return nil, fmt.Errorf("invalid filter 'until=%s'", v)
			}
			keeps = append(keeps, func(n *network.Network) bool { return !n.Created.Before(t) })
		default:
			return nil, fmt.Errorf("invalid filter '%s'", k)
		}
	}
	return func(n *network.Network) bool {
		for _, k := range keeps {
			if k(n) {
				return true
			}
		}
		return false
	}, nil
}
