package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/nerd-project/nerd/pkg/volume"
	"github.com/spf13/cobra"
)

const dfTableFormat = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"

var dfHeader = map[string]string{
	"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE",
}

type systemDfOptions struct {
	verbose bool
	format  string
}

func newSystemDfCommand(app *cli.App) *cobra.Command {
	var o systemDfOptions
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show nerd disk usage",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSystemDf(app, &o)
		},
	}
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "Show detailed information on space usage")
	cmd.Flags().StringVar(&o.format, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	return cmd
}

// dfRow is one line of the summary.
type dfRow struct {
	typ               string
	total, active     int
	size, reclaimable int64
}

func (r dfRow) Type() string       { return r.typ }
func (r dfRow) TotalCount() string { return strconv.Itoa(r.total) }
func (r dfRow) Active() string     { return strconv.Itoa(r.active) }
func (r dfRow) Size() string       { return formatter.Size(r.size) }
func (r dfRow) Reclaimable() string {
	pct := 0
	if r.size > 0 {
		pct = int(r.reclaimable * 100 / r.size)
	}
	return fmt.Sprintf("%s (%d%%)", formatter.Size(r.reclaimable), pct)
}
func (r dfRow) MarshalJSON() ([]byte, error) { return formatter.MarshalMethods(r) }

// diskUsage is what df measures: images, containers, volumes.
type diskUsage struct {
	images     []*image.Image
	imageUsers map[string]int // image ID → containers
	containers []*engine.Container
	ctrSize    map[string]int64
	volumes    []*volume.Volume
	volUsers   map[string][]string
	volSize    map[string]int64
}

func measureDisk(eng *engine.Engine) (*diskUsage, error) {
	u := &diskUsage{imageUsers: map[string]int{}, ctrSize: map[string]int64{}, volSize: map[string]int64{}}
	var err error
	if u.images, err = eng.Images().List(); err != nil {
		return nil, err
	}
	if u.containers, err = eng.List(); err != nil {
		return nil, err
	}
	for _, c := range u.containers {
		u.imageUsers[c.ImageID]++
		u.ctrSize[c.ID] = dirSize(c.Paths.Upper())
	}
	store := eng.Volumes()
	if u.volumes, err = store.List(); err != nil {
		return nil, err
	}
	if u.volUsers, err = store.Users(); err != nil {
		return nil, err
	}
	for _, v := range u.volumes {
		u.volSize[v.Name] = volume.DirSize(store.DataDir(v.Name))
	}
	return u, nil
}

func (u *diskUsage) summary() []dfRow {
	img := dfRow{typ: "Images", total: len(u.images)}
	for _, i := range u.images {
		img.size += i.Size
		if u.imageUsers[i.ID.String()] > 0 {
			img.active++
		} else {
			img.reclaimable += i.Size
		}
	}
	ctr := dfRow{typ: "Containers", total: len(u.containers)}
	for _, c := range u.containers {
		ctr.size += u.ctrSize[c.ID]
		if c.State.Running() {
			ctr.active++
		} else {
			ctr.reclaimable += u.ctrSize[c.ID]
		}
	}
	vol := dfRow{typ: "Local Volumes", total: len(u.volumes)}
	for _, v := range u.volumes {
		vol.size += u.volSize[v.Name]
		if len(u.volUsers[v.Name]) > 0 {
			vol.active++
		} else {
			vol.reclaimable += u.volSize[v.Name]
		}
	}
	return []dfRow{img, ctr, vol, {typ: "Build Cache"}}
}

func runSystemDf(app *cli.App, o *systemDfOptions) error {
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	u, err := measureDisk(eng)
	if err != nil {
		return err
	}
	if !o.verbose {
		return formatter.Write(formatter.Context{Output: app.Out, Format: formatter.NewFormat(o.format, dfTableFormat), Header: dfHeader}, u.summary())
	}
	return u.writeVerbose(app)
}

// writeVerbose is `system df -v`: one table per kind.
func (u *diskUsage) writeVerbose(app *cli.App) error {
	fmt.Fprint(app.Out, "Images space usage:\n\n")
	var imgs []dfImageRow
	for _, img := range u.images {
		for _, r := range imageRows(img, false) {
			imgs = append(imgs, dfImageRow{r, u.imageUsers[img.ID.String()]})
		}
	}
	if err := formatter.Write(formatter.Context{Output: app.Out,
		Format: "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
		Header: map[string]string{"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
			"Size": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS"}}, imgs); err != nil {
		return err
	}
	fmt.Fprint(app.Out, "\nContainers space usage:\n\n")
	var ctrs []dfContainerRow
	for _, c := range u.containers {
		ctrs = append(ctrs, dfContainerRow{&psRow{c: c}, u.ctrSize[c.ID]})
	}
	if err := formatter.Write(formatter.Context{Output: app.Out,
		Format: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
		Header: map[string]string{"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",
			"Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES"}}, ctrs); err != nil {
		return err
	}
	fmt.Fprint(app.Out, "\nLocal Volumes space usage:\n\n")
	var vols []dfVolumeRow
	for _, v := range u.volumes {
		vols = append(vols, dfVolumeRow{v.Name, len(u.volUsers[v.Name]), u.volSize[v.Name]})
	}
	if err := formatter.Write(formatter.Context{Output: app.Out, Format: "table {{.Name}}\t{{.Links}}\t{{.Size}}",
		Header: map[string]string{"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}}, vols); err != nil {
		return err
	}
	fmt.Fprint(app.Out, "\nBuild cache usage: 0B\n\n")
	return formatter.Write(formatter.Context{Output: app.Out,
		Format: "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
		Header: map[string]string{"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
			"LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"}}, []struct{}{})
}

type dfImageRow struct {
	*imageRow
	users int
}

func (r dfImageRow) SharedSize() string { return "0B" }
func (r dfImageRow) UniqueSize() string { return r.imageRow.Size() }
func (r dfImageRow) Containers() string { return strconv.Itoa(r.users) }

type dfContainerRow struct {
	*psRow
	size int64
}

func (r dfContainerRow) Size() string { return formatter.Size(r.size) }

type dfVolumeRow struct {
	name  string
	links int
	size  int64
}

func (r dfVolumeRow) Name() string  { return r.name }
func (r dfVolumeRow) Links() string { return strconv.Itoa(r.links) }
func (r dfVolumeRow) Size() string  { return formatter.Size(r.size) }

// mountNames is ps's MOUNTS column: volume names, bind sources.
func mountNames(mps []container.MountPoint, noTrunc bool) string {
	var out []string
	for _, mp := range mps {
		n := mp.Name
		if n == "" {
			n = mp.Source
		}
		if n == "" {
			continue
		}
		if !noTrunc {
			n = formatter.Ellipsis(n, 15)
		}
		out = append(out, n)
	}
	return strings.Join(out, ",")
}

// localVolumes counts the volumes among the mount points.
func localVolumes(mps []container.MountPoint) int {
	n := 0
	for _, mp := range mps {
		if mp.Type == container.MountTypeVolume {
			n++
		}
	}
	return n
}
