package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type psOptions struct {
	all     bool
	quiet   bool
	last    int
	latest  bool
	size    bool
	noTrunc bool
	format  string
	filters []string
}

const psTableFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

var psHeader = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "Size": "SIZE",
	"Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "State": "STATE", "LocalVolumes": "LOCAL VOLUMES",
}

func newPsCommand(app *cli.App) *cobra.Command {
	var opts psOptions
	cmd := &cobra.Command{
		Use:     "ps [OPTIONS]",
		Aliases: []string{"ls", "list"},
		Short:   "List containers",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPs(app, &opts)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.all, "all", "a", false, "Show all containers (default shows just running)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "Only display container IDs")
	f.IntVarP(&opts.last, "last", "n", -1, "Show n last created containers (includes all states)")
	f.BoolVarP(&opts.latest, "latest", "l", false, "Show the latest created container (includes all states)")
	f.BoolVarP(&opts.size, "size", "s", false, "Display total file sizes")
	f.BoolVar(&opts.noTrunc, "no-trunc", false, "Don't truncate output")
	f.StringVar(&opts.format, "format", "", "Format output using a custom template")
	f.StringArrayVarP(&opts.filters, "filter", "f", nil, "Filter output based on conditions provided")
	return cmd
}

func runPs(app *cli.App, opts *psOptions) error {
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	all, err := eng.List()
	if err != nil {
		return err
	}
	filter, err := parsePsFilters(opts.filters, all, eng.Images())
	if err != nil {
		return err
	}
	if opts.latest {
		opts.last = 1
	}
	// -s shows the image's size as "virtual"; read the images once.
	imageSizes := map[string]int64{}
	if opts.size {
		if images, err := eng.Images().List(); err == nil {
			for _, img := range images {
				imageSizes[img.ID.String()] = img.Size
			}
		}
	}
	showAll := opts.all || opts.last > 0
	var rows []*psRow
	for _, c := range all {
		if opts.last > 0 && len(rows) >= opts.last {
			break
		}
		if !showAll && !filter.wantsNonRunning() && !c.State.Running() {
			continue
		}
		if !filter.match(c) {
			continue
		}
		rows = append(rows, &psRow{eng: eng, c: c, noTrunc: opts.noTrunc, imageSize: imageSizes[c.ImageID]})
	}
	format := opts.format
	if opts.quiet {
		format = "{{.ID}}"
	}
	def := psTableFormat
	if opts.size {
		def += "\t{{.Size}}"
	}
	return formatter.Write(formatter.Context{Output: app.Out, Format: formatter.NewFormat(format, def), Header: psHeader}, rows)
}

// psRow is one line of ps, with Docker's column methods.
type psRow struct {
	eng       *engine.Engine
	c         *engine.Container
	noTrunc   bool
	imageSize int64
}

func (r *psRow) ID() string {
	if r.noTrunc {
		return r.c.ID
	}
	return r.c.ID[:12]
}
func (r *psRow) Image() string { return r.c.Config.Image }
func (r *psRow) Command() string {
	cmd := strings.TrimSpace(r.c.Path + " " + shellQuoteArgs(r.c.Args))
	if !r.noTrunc {
		cmd = formatter.Ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}
func (r *psRow) CreatedAt() string {
	return r.c.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")
}
func (r *psRow) RunningFor() string { return formatter.CreatedSince(r.c.Created) }
func (r *psRow) Status() string     { return statusString(r.c.State, time.Now()) }
func (r *psRow) State() string      { return r.c.State.Status }
func (r *psRow) Ports() string      { return r.eng.DisplayablePorts(r.c) }
func (r *psRow) Names() string      { return r.c.Name }
func (r *psRow) Networks() string   { return psNetworks(r.c) }
func (r *psRow) Mounts() string     { return mountNames(r.c.MountPoints, r.noTrunc) }
func (r *psRow) LocalVolumes() string {
	return strconv.Itoa(localVolumes(r.c.MountPoints))
}
func (r *psRow) Size() string {
	rw := dirSize(r.c.Paths.Upper())
	return formatter.Size(rw) + " (virtual " + formatter.Size(rw+r.imageSize) + ")"
}
func (r *psRow) Labels() string {
	var kv []string
	for k, v := range r.c.Config.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// Label is {{.Label "key"}}.
func (r *psRow) Label(name string) string { return r.c.Config.Labels[name] }

// MarshalJSON gives --format json Docker's keys.
func (r *psRow) MarshalJSON() ([]byte, error) { return formatter.MarshalMethods(r, "Label") }

// statusString is Docker's STATUS column.
func statusString(s *container.State, now time.Time) string {
	switch s.Status {
	case container.StatusRunning:
		return "Up " + formatter.HumanDuration(now.Sub(s.StartedAt))
	case container.StatusPaused:
		return "Up " + formatter.HumanDuration(now.Sub(s.StartedAt)) + " (Paused)"
	case container.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCode, formatter.HumanDuration(now.Sub(s.FinishedAt)))
	case container.StatusExited:
		if s.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", s.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, formatter.HumanDuration(now.Sub(s.FinishedAt)))
	case container.StatusRemoving:
		return "Removal In Progress"
	case container.StatusDead:
		return "Dead"
	}
	return "Created"
}

// psFilter holds `ps --filter` conditions: values of one key are ORed,
// keys ANDed.
type psFilter struct {
	ids, names, statuses, ancestors []string
	labels                          []string
	networks, publish, expose       []string
	exited                          []int
	before, since                   *time.Time
	images                          []*image.Image
}

func parsePsFilters(args []string, all []*engine.Container, images *image.Store) (*psFilter, error) {
	f := &psFilter{}
	findC := func(ref string) (*engine.Container, error) {
		for _, c := range all {
			if c.ID == ref || c.Name == strings.TrimPrefix(ref, "/") || strings.HasPrefix(c.ID, ref) {
				return c, nil
			}
		}
		return nil, fmt.Errorf("No such container: %s", ref)
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		switch k {
		case "id":
			f.ids = append(f.ids, v)
		case "name":
			f.names = append(f.names, v)
		case "label":
			f.labels = append(f.labels, v)
		case "status":
			switch v {
			case "created", "restarting", "running", "removing", "paused", "exited", "dead":
			default:
				return nil, fmt.Errorf("invalid filter 'status=%s'", v)
			}
			f.statuses = append(f.statuses, v)
		case "ancestor":
			f.ancestors = append(f.ancestors, v)
		case "network":
			f.networks = append(f.networks, v)
		case "publish":
			f.publish = append(f.publish, v)
		case "expose":
			f.expose = append(f.expose, v)
		case "exited":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("invalid filter 'exited=%s'", v)
			}
			f.exited = append(f.exited, n)
		case "before", "since":
			c, err := findC(v)
			if err != nil {
				return nil, err
			}
			t := c.Created
			if k == "before" {
				f.before = &t
			} else {
				f.since = &t
			}
		default:
			return nil, fmt.Errorf("invalid filter '%s'", k)
		}
	}
	if len(f.ancestors) > 0 {
		f.images, _ = images.List()
	}
	return f, nil
}

// wantsNonRunning: status/exited filters show stopped containers without -a.
func (f *psFilter) wantsNonRunning() bool {
	for _, s := range f.statuses {
		if s != "running" && s != "paused" && s != "restarting" {
			return true
		}
	}
	return len(f.exited) > 0
}

func anyMatch(vals []string, pred func(string) bool) bool {
	if len(vals) == 0 {
		return true
	}
	for _, v := range vals {
		if pred(v) {
			return true
		}
	}
	return false
}

func (f *psFilter) match(c *engine.Container) bool {
	if !anyMatch(f.ids, func(v string) bool { return strings.HasPrefix(c.ID, v) }) {
		return false
	}
	if !anyMatch(f.names, func(v string) bool { return f.nameMatch(c.Name, v) }) {
		return false
	}
	if !anyMatch(f.statuses, func(v string) bool { return c.State.Status == v }) {
		return false
	}
	if !anyMatch(f.networks, func(v string) bool { return psOnNetwork(c, v) }) {
		return false
	}
	if !anyMatch(f.publish, func(v string) bool { return psPublishes(c, v) }) {
		return false
	}
	if !anyMatch(f.expose, func(v string) bool { return psExposes(c, v) }) {
		return false
	}
	if len(f.exited) > 0 {
		ok := false
		for _, n := range f.exited {
			if c.State.Status == container.StatusExited && c.State.ExitCode == n {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	for _, l := range f.labels {
		k, v, hasV := strings.Cut(l, "=")
		got, ok := c.Config.Labels[k]
		if !ok || (hasV && got != v) {
			return false
		}
	}
	if f.before != nil && !c.Created.Before(*f.before) {
		return false
	}
	if f.since != nil && !c.Created.After(*f.since) {
		return false
	}
	return anyMatch(f.ancestors, func(v string) bool { return f.ancestorMatch(c, v) })
}

// nameMatch is Docker's name filter: a regular expression matched against
// the name with its leading "/".
func (f *psFilter) nameMatch(name, pattern string) bool {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return strings.Contains(name, strings.TrimPrefix(pattern, "/"))
	}
	return re.MatchString("/"+name) || re.MatchString(name)
}

// shellQuoteArgs joins args the way Docker's ps shows them: an argument
// containing a space is wrapped in single quotes, nothing else is escaped.
func shellQuoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// ancestorMatch: the container's image is the one v names (by name or ID).
func (f *psFilter) ancestorMatch(c *engine.Container, v string) bool {
	if c.Config.Image == v {
		return true
	}
	for _, img := range f.images {
		if img.ID.String() != c.ImageID {
			continue
		}
		if strings.HasPrefix(img.ID.Encoded(), strings.TrimPrefix(v, "sha256:")) {
			return true
		}
		ref, err := image.ParseReference(v)
		if err != nil {
			continue
		}
		for _, n := range img.Names {
			if n.String() == ref.String() || n.Name() == ref.Name() {
				return true
			}
		}
	}
	return false
}
