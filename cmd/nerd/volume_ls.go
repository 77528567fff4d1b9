package main

import (
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/spf13/cobra"
)

const volumeTableFormat = "table {{.Driver}}\t{{.Name}}"

var volumeHeader = map[string]string{
	"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
	"Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "Availability": "AVAILABILITY",
	"Group": "GROUP", "Status": "STATUS",
}

type volumeListOptions struct {
	quiet   bool
	format  string
	filters []string
}

func newVolumeListCommand(app *cli.App) *cobra.Command {
	var o volumeListOptions
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumeList(app, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Only display volume names")
	f.StringVar(&o.format, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	f.StringArrayVarP(&o.filters, "filter", "f", nil, "Provide filter values (e.g. \"dangling=true\")")
	f.Bool("cluster", false, "Display only cluster volumes (not supported)")
	_ = f.MarkHidden("cluster")
	return cmd
}

func runVolumeList(app *cli.App, o *volumeListOptions) error {
	filters, err := parseVolumeFilters(o.filters, "dangling", "name", "driver", "label", "label!")
	if err != nil {
		return err
	}
	store, err := volumeStore(app)
	if err != nil {
		return err
	}
	vols, err := store.List()
	if err != nil {
		return err
	}
	users, err := store.Users()
	if err != nil {
		return err
	}
	var rows []volumeRow
	for _, v := range vols {
		if filters.match(v, len(users[v.Name]) > 0) {
			rows = append(rows, volumeRow{v})
		}
	}
	format := o.format
	if o.quiet {
		format = "{{.Name}}"
	}
	return formatter.Write(formatter.Context{Output: app.Out, Format: formatter.NewFormat(format, volumeTableFormat), Header: volumeHeader}, rows)
}
