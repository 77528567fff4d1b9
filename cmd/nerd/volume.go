package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/volume"
	"github.com/spf13/cobra"
)

func newVolumeCommand(app *cli.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume COMMAND",
		Short: "Manage volumes",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newVolumeCreateCommand(app),
		newVolumeListCommand(app),
		newVolumeInspectCommand(app),
		newVolumeRemoveCommand(app),
		newVolumePruneCommand(app),
	)
	return cmd
}

// volumeStore opens the engine's volume store.
func volumeStore(app *cli.App) (*volume.Store, error) {
	eng, err := app.Engine()
	if err != nil {
		return nil, err
	}
	return eng.Volumes(), nil
}

// volumeFilters are the --filter values of volume ls and prune.
type volumeFilters struct {
	dangling *bool
	names    []string
	drivers  []string
	labels   []string // key or key=value
	notLabel []string // label!=…
}

// parseVolumeFilters parses --filter values; allowed names the keys the
// command accepts.
func parseVolumeFilters(args []string, allowed ...string) (*volumeFilters, error) {
	f := &volumeFilters{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if !contains(allowed, k) {
			return nil, fmt.Errorf("invalid filter '%s'", k)
		}
		switch k {
		case "dangling":
			var err error
			if f.dangling, err = parseBoolFilter("dangling", v); err != nil {
				return nil, err
			}
		case "name":
			f.names = append(f.names, v)
		case "driver":
			f.drivers = append(f.drivers, v)
		case "label":
			f.labels = append(f.labels, v)
		case "label!":
			f.notLabel = append(f.notLabel, v)
		}
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// match applies the filters; used says whether a container mounts v.
func (f *volumeFilters) match(v *volume.Volume, used bool) bool {
	if f.dangling != nil && *f.dangling == used {
		return false
	}
	if !anyMatch(f.names, func(n string) bool { return strings.Contains(v.Name, n) }) {
		return false
	}
	if len(f.drivers) > 0 && !contains(f.drivers, v.Driver) {
		return false
	}
	for _, l := range f.labels {
		if !hasLabel(v.Labels, l) {
			return false
		}
	}
	for _, l := range f.notLabel {
		if hasLabel(v.Labels, l) {
			return false
		}
	}
	return true
}

// hasLabel matches "key" (present) or "key=value".
func hasLabel(labels map[string]string, filter string) bool {
	k, v, withValue := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!withValue || got == v)
}

// volumeRow is one line of volume ls (Docker's volume formatter fields).
type volumeRow struct{ v *volume.Volume }

func (r volumeRow) Name() string         { return r.v.Name }
func (r volumeRow) Driver() string       { return r.v.Driver }
func (r volumeRow) Scope() string        { return r.v.Scope }
func (r volumeRow) Mountpoint() string   { return r.v.Mountpoint }
func (r volumeRow) Links() string        { return "N/A" }
func (r volumeRow) Size() string         { return "N/A" }
func (r volumeRow) Availability() string { return "N/A" }
func (r volumeRow) Group() string        { return "N/A" }
func (r volumeRow) Status() string       { return "N/A" }

// Labels is "k=v,k2=v2", sorted.
func (r volumeRow) Labels() string {
	var out []string
	for k, v := range r.v.Labels {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Label is one label's value ({{.Label "key"}}).
func (r volumeRow) Label(name string) string { return r.v.Labels[name] }

func (r volumeRow) MarshalJSON() ([]byte, error) { return formatter.MarshalMethods(r, "Label") }

// volumeError maps store errors to Docker's wording.
func volumeError(err error) error {
	if errors.Is(err, volume.ErrInvalid) {
		// "create x: invalid volume: …" → "create x: …"
		return errors.New(strings.Replace(err.Error(), volume.ErrInvalid.Error()+": ", "", 1))
	}
	return err
}
