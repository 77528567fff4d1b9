package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	units "github.com/docker/go-units"
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type statsOptions struct {
	all      bool
	noStream bool
	noTrunc  bool
	format   string
}

const statsTableFormat = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

var statsHeader = map[string]string{
	"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
	"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}

// statsInterval is how often Docker refreshes the figures.
const statsInterval = time.Second

func newStatsCommand(app *cli.App) *cobra.Command {
	var opts statsOptions
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStats(cmd.Context(), app, &opts, args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.all, "all", "a", false, "Show all containers (default shows just running)")
	f.BoolVar(&opts.noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	f.BoolVar(&opts.noTrunc, "no-trunc", false, "Do not truncate output")
	f.StringVar(&opts.format, "format", "", "Format output using a custom template")
	return cmd
}

// statsTarget is a container being watched, under the name it was asked
// for (or its short ID).
type statsTarget struct {
	c    *engine.Container
	ref  string
	prev engine.Stats
}

func runStats(ctx context.Context, app *cli.App, opts *statsOptions, refs []string) error {
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	var targets []*statsTarget
	if len(refs) > 0 {
		var errs []error
		for _, ref := range refs {
			c, err := getContainer(eng, ref)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			targets = append(targets, &statsTarget{c: c, ref: ref})
		}
		if len(errs) > 0 {
			return joinErrors(app, errs)
		}
	}
	// list follows the running containers (all with -a) when no names
	// were given, as Docker follows start and die events.
	list := func() error {
		if len(refs) > 0 {
			return nil
		}
		all, err := eng.List()
		if err != nil {
			return err
		}
		known := map[string]*statsTarget{}
		for _, t := range targets {
			known[t.c.ID] = t
		}
		var next []*statsTarget
		for _, c := range all { // newest first, as ps lists them
			if !opts.all && !c.State.Running() {
				continue
			}
			if t, ok := known[c.ID]; ok {
				next = append(next, t)
				continue
			}
			next = append(next, &statsTarget{c: c, ref: c.ID[:12], prev: eng.ContainerStats(c)})
		}
		targets = next
		return nil
	}
	if err := list(); err != nil {
		return err
	}
	for _, t := range targets {
		t.prev = eng.ContainerStats(t.c)
	}
	format := formatter.NewFormat(opts.format, statsTableFormat)
	_, isTerm := app.OutIsTerminal()
	for {
		// The first figures need two readings (CPU % is a rate).
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(statsInterval):
		}
		rows := make([]*statsRow, 0, len(targets))
		for _, t := range targets {
			cur := eng.ContainerStats(t.c)
			rows = append(rows, &statsRow{t: t, s: cur, cpu: engine.CPUPercent(t.prev, cur), noTrunc: opts.noTrunc})
			t.prev = cur
		}
		var buf bytes.Buffer
		if !opts.noStream && isTerm {
			buf.WriteString("\033[2J\033[H")
		}
		if err := formatter.Write(formatter.Context{Output: &buf, Format: format, Header: statsHeader}, rows); err != nil {
			return err
		}
		if _, err := buf.WriteTo(app.Out); err != nil {
			return err
		}
		if opts.noStream {
			return nil
		}
		if err := list(); err != nil {
			return err
		}
	}
}

// statsRow is one line of docker stats.
type statsRow struct {
	t       *statsTarget
	s       engine.Stats
	cpu     float64
	noTrunc bool
}

func (r *statsRow) Container() string { return r.t.ref }
func (r *statsRow) Name() string {
	if r.t.c.Name == "" {
		return "--"
	}
	return r.t.c.Name
}
func (r *statsRow) ID() string {
	if r.noTrunc {
		return r.t.c.ID
	}
	return r.t.c.ID[:12]
}
func (r *statsRow) CPUPerc() string { return percent(r.cpu) }
func (r *statsRow) MemUsage() string {
	return units.BytesSize(float64(r.s.MemUsage)) + " / " + units.BytesSize(float64(r.s.MemLimit))
}
func (r *statsRow) MemPerc() string { return percent(r.s.MemPercent()) }
func (r *statsRow) NetIO() string {
	return formatter.Size(int64(r.s.NetRx)) + " / " + formatter.Size(int64(r.s.NetTx))
}
func (r *statsRow) BlockIO() string {
	return formatter.Size(int64(r.s.BlockRead)) + " / " + formatter.Size(int64(r.s.BlockWrite))
}
func (r *statsRow) PIDs() string { return strconv.FormatUint(r.s.Pids, 10) }

// MarshalJSON gives --format json Docker's keys.
func (r *statsRow) MarshalJSON() ([]byte, error) { return formatter.MarshalMethods(r) }

func percent(v float64) string { return fmt.Sprintf("%.2f%%", v) }
