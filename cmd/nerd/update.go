package main

import (
	"context"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/opts"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type updateOptions struct {
	restart    string
	memory     opts.MemBytes
	memorySwap opts.MemSwapBytes
	cpus       opts.NanoCPUs
	cpuShares  int64
	pidsLimit  int64
}

func newUpdateCommand(app *cli.App) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:   "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Update configuration of one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var u engine.Update
			if f.Changed("restart") {
				rp, err := opts.ParseRestartPolicy(o.restart)
				if err != nil {
					return cli.FlagError(err)
				}
				u.RestartPolicy = &rp
			}
			if f.Changed("memory") || f.Changed("memory-swap") || f.Changed("cpus") || f.Changed("cpu-shares") || f.Changed("pids-limit") {
				r := container.Resources{Memory: int64(o.memory), MemorySwap: int64(o.memorySwap), NanoCPUs: int64(o.cpus), CPUShares: o.cpuShares}
				if f.Changed("pids-limit") {
					r.PidsLimit = &o.pidsLimit
				}
				u.Resources = &r
			}
			return runUpdate(cmd.Context(), app, u, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.restart, "restart", "", "Restart policy to apply when a container exits")
	f.VarP(&o.memory, "memory", "m", "Memory limit")
	f.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
	f.Var(&o.cpus, "cpus", "Number of CPUs")
	f.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	return cmd
}

func runUpdate(ctx context.Context, app *cli.App, u engine.Update, refs []string) error {
	return forEachContainer(app, refs, func(eng *engine.Engine, c *engine.Container) error {
		if err := eng.UpdateContainer(ctx, c, u); err != nil {
			return err
		}
		fmt.Fprintln(app.Out, containerArg(refs, c))
		return nil
	})
}
