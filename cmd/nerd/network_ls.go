package main

import (
	"fmt"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/network"
	"github.com/spf13/cobra"
)

type networkListOptions struct {
	quiet   bool
	noTrunc bool
	format  string
	filters []string
}

const networksTableFormat = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"

var networksHeader = map[string]string{
	"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
	"IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT",
}

func newNetworkListCommand(app *cli.App) *cobra.Command {
	var o networkListOptions
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkList(app, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Only display network IDs")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "Do not truncate the output")
	f.StringVar(&o.format, "format", "", "Format output using a custom template")
	f.StringArrayVarP(&o.filters, "filter", "f", nil, "Provide filter values (e.g. \"driver=bridge\")")
	return cmd
}

func runNetworkList(app *cli.App, o *networkListOptions) error {
	match, err := parseNetworkFilters(o.filters)
	if err != nil {
		return err
	}
	m, err := app.Networks()
	if err != nil {
		return err
	}
	all, err := m.List()
	if err != nil {
		return err
	}
	var rows []*networkRow
	for _, n := range all {
		if match(n) {
			rows = append(rows, &networkRow{n: n, noTrunc: o.noTrunc})
		}
	}
	format := o.format
	if o.quiet {
		format = "{{.ID}}"
	}
	return formatter.Write(formatter.Context{Output: app.Out, Format: formatter.NewFormat(format, networksTableFormat), Header: networksHeader}, rows)
}

// parseNetworkFilters reads --filter name=, id=, driver=, label=, type=,
// scope= (Docker's: values of one key are ORed, keys are ANDed).
func parseNetworkFilters(fs []string) (func(*network.Network) bool, error) {
	by := map[string][]string{}
	for _, f := range fs {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		switch k {
		case "name", "id", "driver", "label", "type", "scope", "dangling":
		default:
			return nil, fmt.Errorf("invalid filter '%s'", k)
		}
		by[k] = append(by[k], v)
	}
	one := func(n *network.Network, k, v string) bool {
		switch k {
		case "name":
			return strings.Contains(n.Name, v)
		case "id":
			return strings.HasPrefix(n.ID, v)
		case "driver":
			return n.Driver == v
		case "scope":
			return n.Scope == v
		case "type":
			custom := !network.IsPredefined(n.Name)
			return (v == "custom" && custom) || (v == "builtin" && !custom)
		case "label":
			lk, lv, hasV := strings.Cut(v, "=")
			got, ok := n.Labels[lk]
			return ok && (!hasV || got == lv)
		}
		return true
	}
	return func(n *network.Network) bool {
		for k, vs := range by {
			ok := false
			for _, v := range vs {
				ok = ok || one(n, k, v)
			}
			if !ok {
				return false
			}
		}
		return true
	}, nil
}

// networkRow is one line of `network ls`.
type networkRow struct {
	n       *network.Network
	noTrunc bool
}

func (r *networkRow) ID() string {
	if r.noTrunc {
		return r.n.ID
	}
	return r.n.ID[:12]
}
func (r *networkRow) Name() string     { return r.n.Name }
func (r *networkRow) Driver() string   { return r.n.Driver }
func (r *networkRow) Scope() string    { return r.n.Scope }
func (r *networkRow) IPv6() string     { return fmt.Sprint(r.n.EnableIPv6) }
func (r *networkRow) IPv4() string     { return fmt.Sprint(r.n.EnableIPv4) }
func (r *networkRow) Internal() string { return fmt.Sprint(r.n.Internal) }
func (r *networkRow) CreatedAt() string {
	return r.n.Created.Local().Format("2006-01-02 15:04:05.999999999 -0700 MST")
}
func (r *networkRow) Labels() string {
	var kv []string
	for k, v := range r.n.Labels {
		kv = append(kv, k+"="+v)
	}
	return strings.Join(kv, ",")
}
func (r *networkRow) Label(name string) string { return r.n.Labels[name] }

// MarshalJSON makes `--format json` print the columns, as Docker does.
func (r *networkRow) MarshalJSON() ([]byte, error) { return formatter.MarshalMethods(r) }
