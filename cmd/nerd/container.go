package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

// newContainerCommand is the `container` management command.
func newContainerCommand(app *cli.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newRunCommand(app), newCreateCommand(app), newStartCommand(app), newStopCommand(app),
		newRestartCommand(app), newKillCommand(app), newRmCommand(app), newPsCommand(app),
		newLogsCommand(app), newWaitCommand(app), newRenameCommand(app), newPauseCommand(app),
		newUnpauseCommand(app), newExecCommand(app), newAttachCommand(app), newTopCommand(app),
		newContainerPruneCommand(app), newContainerInspectCommand(app), newUpdateCommand(app),
		newCpCommand(app), newDiffCommand(app), newExportCommand(app), newCommitCommand(app),
		newStatsCommand(app), newPortCommand(app),
	)
	return cmd
}

func newContainerPruneCommand(app *cli.App) *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all stopped containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContainerPrune(cmd.Context(), app, force, filters)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. \"until=<timestamp>\")")
	return cmd
}

func runContainerPrune(ctx context.Context, app *cli.App, force bool, filters []string) error {
	if !force && !confirm(app, "WARNING! This will remove all stopped containers.") {
		return nil
	}
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	deleted, reclaimed, err := pruneContainers(ctx, eng)
	printDeleted(app, "Deleted Containers:", deleted)
	fmt.Fprintf(app.Out, "Total reclaimed space: %s\n", formatter.Size(reclaimed))
	return err
}

// pruneContainers removes every container that is not running and returns
// their IDs and the space their writable layers took.
func pruneContainers(ctx context.Context, eng *engine.Engine) (deleted []string, reclaimed int64, err error) {
	all, err := eng.List()
	if err != nil {
		return nil, 0, err
	}
	for _, c := range all {
		if c.State.Running() {
			continue
		}
		size := dirSize(c.Paths.Upper())
		if err := eng.Remove(ctx, c, engine.RemoveOptions{}); err != nil {
			return deleted, reclaimed, err
		}
		reclaimed += size
		deleted = append(deleted, c.ID)
	}
	return deleted, reclaimed, nil
}

// printDeleted prints a prune section ("Deleted Containers:" and the
// IDs, then a blank line); nothing when nothing was deleted.
func printDeleted(app *cli.App, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintln(app.Out, title)
	for _, it := range items {
		fmt.Fprintln(app.Out, it)
	}
	fmt.Fprintln(app.Out)
}

func newContainerInspectCommand(app *cli.App) *cobra.Command {
	var format string
	var size bool
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := app.Engine()
			if err != nil {
				return err
			}
			var objs []any
			var errs []error
			for _, ref := range args {
				c, err := getContainer(eng, ref)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				objs = append(objs, eng.Inspect(c))
			}
			if err := writeInspect(app, format, objs); err != nil {
				return err
			}
			return joinErrors(app, errs)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Format output using a custom template")
	cmd.Flags().BoolVarP(&size, "size", "s", false, "Display total file sizes")
	return cmd
}

func newTopCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := openContainer(app, args[0])
			if err != nil {
				return err
			}
			if !c.State.Running() {
				return fmt.Errorf("container %s is not running", c.ID)
			}
			pids := containerPids(c)
			fmt.Fprintf(app.Out, "%-10s %-10s %-10s %s\n", "UID", "PID", "PPID", "CMD")
			for _, pid := range pids {
				uid, ppid, cmdline := procInfo(pid)
				fmt.Fprintf(app.Out, "%-10s %-10d %-10s %s\n", uid, pid, ppid, cmdline)
			}
			return nil
		},
	}
}

// containerPids lists the container's processes from its pids cgroup.
func containerPids(c *engine.Container) []int {
	var out []int
	for _, ctrl := range []string{"pids", "memory", ""} {
		data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, "nerd", c.ID, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	return []int{c.State.Pid}
}

func procInfo(pid int) (uid, ppid, cmdline string) {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "Uid:" {
			uid = f[1]
		}
		if len(f) >= 2 && f[0] == "PPid:" {
			ppid = f[1]
		}
	}
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	cmdline = strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
	if uid == "0" {
		uid = "root"
	}
	return uid, ppid, cmdline
}
