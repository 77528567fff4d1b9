package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

func newInfoCommand(app *cli.App) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Display system-wide information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInfo(app, format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Format output using a custom template")
	return cmd
}

func newSystemCommand(app *cli.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system",
		Short: "Manage nerd",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newInfoCommand(app), newSystemBootCommand(app), newSystemDfCommand(app), newSystemPruneCommand(app))
	return cmd
}

// systemInfo carries the `docker info` fields that make sense without a
// daemon, under Docker's names so --format templates keep working.
type systemInfo struct {
	ID              string
	Images          int
	Containers      int
	Driver          string
	DockerRootDir   string
	HostsDir        string
	ConfigFile      string
	CgroupVersion   string
	CgroupDriver    string
	KernelVersion   string
	OperatingSystem string
	OSType          string
	Architecture    string
	NCPU            int
	MemTotal        int64
	Name            string
	ServerVersion   string
	Rootless        bool
	Debug           bool
}

func runInfo(app *cli.App, format string) error {
	store, err := app.Images()
	if err != nil {
		return err
	}
	images, err := store.List()
	if err != nil {
		return err
	}
	info := systemInfo{
		Images:          len(images),
		Driver:          "overlayfs",
		DockerRootDir:   app.Global.DataRoot,
		HostsDir:        app.Global.HostsDir,
		ConfigFile:      app.Global.ConfigFile,
		CgroupVersion:   cgroupVersion(),
		CgroupDriver:    "cgroupfs",
		KernelVersion:   kernelVersion(),
		OperatingSystem: osRelease(),
		OSType:          runtime.GOOS,
		Architecture:    runtime.GOARCH,
		NCPU:            runtime.NumCPU(),
		ServerVersion:   cli.Version,
		Rootless:        os.Geteuid() != 0,
		Debug:           app.Global.Debug,
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		info.MemTotal = int64(si.Totalram) * int64(si.Unit)
	}
	info.Name, _ = os.Hostname()
	if format != "" {
		if format == "json" {
			format = "{{json .}}"
		}
		tmpl, err := formatter.ParseTemplate(format)
		if err != nil {
			return err
		}
		if err := tmpl.Execute(app.Out, info); err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		fmt.Fprintln(app.Out)
		return nil
	}
	w := app.Out
	fmt.Fprintf(w, "Client:\n Version:    %s\n Context:    default (no daemon)\n Debug Mode: %t\n\n", cli.Version, info.Debug)
	fmt.Fprintf(w, "Server:\n Containers: %d\n Images: %d\n Server Version: %s (in-process engine)\n", info.Containers, info.Images, info.ServerVersion)
	fmt.Fprintf(w, " Storage Driver: %s\n Snapshotter: overlayfs\n Cgroup Driver: %s\n Cgroup Version: %s\n", info.Driver, info.CgroupDriver, info.CgroupVersion)
	fmt.Fprintf(w, " Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n CPUs: %d\n Total Memory: %s\n Name: %s\n",
		info.KernelVersion, info.OperatingSystem, info.OSType, info.Architecture, info.NCPU, formatter.Size(info.MemTotal), info.Name)
	fmt.Fprintf(w, " Docker Root Dir: %s\n Registry Hosts Dir: %s\n Config File: %s\n Rootless: %t\n", info.DockerRootDir, info.HostsDir, info.ConfigFile, info.Rootless)
	return nil
}

func cgroupVersion() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "2"
	}
	return "1"
}

func kernelVersion() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func osRelease() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}
