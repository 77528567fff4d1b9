package main

import (
	"fmt"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/opts"
	"github.com/nerd-project/nerd/pkg/volume"
	"github.com/spf13/cobra"
)

type volumeCreateOptions struct {
	name    string
	driver  string
	labels  []string
	options []string
}

func newVolumeCreateCommand(app *cli.App) *cobra.Command {
	var o volumeCreateOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if o.name != "" {
					return cli.FlagError(fmt.Errorf("conflicting options: cannot specify a volume-name through both --name and as a positional arg"))
				}
				o.name = args[0]
			}
			return runVolumeCreate(app, &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.driver, "driver", "d", volume.DefaultDriver, "Specify volume driver name")
	f.StringVar(&o.name, "name", "", "Specify volume name")
	_ = f.MarkHidden("name")
	f.StringArrayVar(&o.labels, "label", nil, "Set metadata for a volume")
	f.StringArrayVarP(&o.options, "opt", "o", nil, "Set driver specific options")
	return cmd
}

func runVolumeCreate(app *cli.App, o *volumeCreateOptions) error {
	labels, err := opts.MergeLabels(nil, o.labels)
	if err != nil {
		return cli.FlagError(err)
	}
	options := map[string]string{}
	for _, kv := range o.options {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return cli.FlagError(fmt.Errorf("invalid argument %q for \"-o, --opt\" flag: invalid key/value pair format in driver options", kv))
		}
		options[k] = v
	}
	store, err := volumeStore(app)
	if err != nil {
		return err
	}
	v, _, err := store.Create(volume.CreateOptions{Name: o.name, Driver: o.driver, Labels: labels, Options: options})
	if err != nil {
		return volumeError(err)
	}
	fmt.Fprintln(app.Out, v.Name)
	return nil
}
