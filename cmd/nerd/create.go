package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/opts"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/nerd-project/nerd/pkg/logging"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// createOptions are the flags shared by run and create (Docker's
// container/opts.go), bound straight to fields.
type createOptions struct {
	image string
	args  []string

	name        string
	rm          bool
	interactive bool
	tty         bool
	attach      []string
	env         []string
	envFile     []string
	labels      []string
	labelFile   []string
	workdir     string
	user        string
	entrypoint  string
	hostname    string
	domainname  string
	initFlag    bool
	stopSignal  string
	stopTimeout int
	pull        string
	platform    string
	cidfile     string
	quiet       bool
	readOnly    bool
	tmpfs       []string
	privileged  bool
	capAdd      []string
	capDrop     []string
	securityOpt []string
	groupAdd    []string
	sysctls     []string
	ulimits     []string
	shmSize     string
	memory      opts.MemBytes
	memorySwap  opts.MemSwapBytes
	memoryRes   opts.MemBytes
	cpus        opts.NanoCPUs
	cpuShares   int64
	cpuPeriod   int64
	cpuQuota    int64
	cpusetCpus  string
	cpusetMems  string
	pidsLimit   int64
	devices     []string
	ipc         string
	pid         string
	uts         string
	net         networkFlags
	logDriver   string
	logOpts     []string
	restart     string
	runtime     string
	expose      []string
	mountOptions

	// detach is run -d (no flag of its own here): nothing is attached.
	detach bool
}

func newCreateCommand(app *cli.App) *cobra.Command {
	var co createOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			co.image, co.args = args[0], args[1:]
			eng, err := app.Engine()
			if err != nil {
				return err
			}
			c, err := createContainer(cmd.Context(), app, eng, cmd, &co)
			if err != nil {
				return err
			}
			fmt.Fprintln(app.Out, c.ID)
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	addCreateFlags(cmd.Flags(), &co)
	return cmd
}

func addCreateFlags(f *pflag.FlagSet, co *createOptions) {
	f.StringVar(&co.name, "name", "", "Assign a name to the container")
	f.BoolVar(&co.rm, "rm", false, "Automatically remove the container and its associated anonymous volumes when it exits")
	f.BoolVarP(&co.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	f.BoolVarP(&co.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	f.StringSliceVarP(&co.attach, "attach", "a", nil, "Attach to STDIN, STDOUT or STDERR")
	f.StringArrayVarP(&co.env, "env", "e", nil, "Set environment variables")
	f.StringArrayVar(&co.envFile, "env-file", nil, "Read in a file of environment variables")
	f.StringArrayVarP(&co.labels, "label", "l", nil, "Set meta data on a container")
	f.StringArrayVar(&co.labelFile, "label-file", nil, "Read in a line delimited file of labels")
	f.StringVarP(&co.workdir, "workdir", "w", "", "Working directory inside the container")
	f.StringVarP(&co.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	f.StringVar(&co.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	f.StringVarP(&co.hostname, "hostname", "h", "", "Container host name")
	f.StringVar(&co.domainname, "domainname", "", "Container NIS domain name")
	f.BoolVar(&co.initFlag, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	f.StringVar(&co.stopSignal, "stop-signal", "", "Signal to stop the container")
	f.IntVar(&co.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	f.StringVar(&co.pull, "pull", "missing", `Pull image before running ("always", "missing", "never")`)
	f.StringVar(&co.platform, "platform", os.Getenv("DOCKER_DEFAULT_PLATFORM"), "Set platform if server is multi-platform capable")
	f.StringVar(&co.cidfile, "cidfile", "", "Write the container ID to the file")
	f.BoolVarP(&co.quiet, "quiet", "q", false, "Suppress the pull output")
	f.BoolVar(&co.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	f.StringArrayVar(&co.tmpfs, "tmpfs", nil, "Mount a tmpfs directory")
	f.BoolVar(&co.privileged, "privileged", false, "Give extended privileges to this container")
	f.StringSliceVar(&co.capAdd, "cap-add", nil, "Add Linux capabilities")
	f.StringSliceVar(&co.capDrop, "cap-drop", nil, "Drop Linux capabilities")
	f.StringArrayVar(&co.securityOpt, "security-opt", nil, "Security Options")
	f.StringSliceVar(&co.groupAdd, "group-add", nil, "Add additional groups to join")
	f.StringArrayVar(&co.sysctls, "sysctl", nil, "Sysctl options")
	f.StringArrayVar(&co.ulimits, "ulimit", nil, "Ulimit options")
	f.StringVar(&co.shmSize, "shm-size", "", "Size of /dev/shm")
	f.VarP(&co.memory, "memory", "m", "Memory limit")
	f.Var(&co.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	f.Var(&co.memoryRes, "memory-reservation", "Memory soft limit")
	f.Var(&co.cpus, "cpus", "Number of CPUs")
	f.Int64VarP(&co.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.Int64Var(&co.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	f.Int64Var(&co.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	f.StringVar(&co.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	f.StringVar(&co.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	f.Int64Var(&co.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	f.StringArrayVar(&co.devices, "device", nil, "Add a host device to the container")
	f.StringVar(&co.ipc, "ipc", "", "IPC mode to use")
	f.StringVar(&co.pid, "pid", "", "PID namespace to use")
	f.StringVar(&co.uts, "uts", "", "UTS namespace to use")
	addNetworkFlags(f, &co.net)
	f.StringVar(&co.logDriver, "log-driver", "", "Logging driver for the container (json-file, none)")
	f.StringArrayVar(&co.logOpts, "log-opt", nil, "Log driver options")
	f.StringVar(&co.restart, "restart", "no", "Restart policy to apply when a container exits")
	f.StringVar(&co.runtime, "runtime", "", "Runtime to use for this container")
	f.StringArrayVar(&co.expose, "expose", nil, "Expose a port or a range of ports")
	addMountFlags(f, &co.mountOptions)
}

// createContainer resolves the image (pulling per --pull) and creates the
// container.
func createContainer(ctx context.Context, app *cli.App, eng *engine.Engine, cmd *cobra.Command, co *createOptions) (*engine.Container, error) {
	ref, err := image.ParseReference(co.image)
	if err != nil {
		return nil, err
	}
	img, err := resolveImage(ctx, app, eng.Images(), co, ref)
	if err != nil {
		return nil, err
	}
	create, err := co.toCreate(cmd, img)
	if err != nil {
		return nil, err
	}
	c, err := eng.Create(create)
	if err != nil {
		return nil, err
	}
	for _, w := range co.net.warnings {
		fmt.Fprintf(app.Err, "WARNING: %s\n", w)
	}
	if err := writeCidfile(co.cidfile, c.ID); err != nil {
		_ = eng.Remove(ctx, c, engine.RemoveOptions{Force: true})
		return nil, err
	}
	return c, nil
}

// resolveImage applies --pull: missing (default) pulls only when the image
// is not in the store; always pulls; never fails on a missing image.
func resolveImage(ctx context.Context, app *cli.App, store *image.Store, co *createOptions, ref image.Reference) (*image.Image, error) {
	switch co.pull {
	case "missing", "always", "never":
	default:
		return nil, cli.FlagError(fmt.Errorf("invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"", co.pull))
	}
	platform, err := parsePlatform(co.platform)
	if err != nil {
		return nil, err
	}
	if co.pull != "always" {
		img, err := store.Get(co.image)
		switch {
		case err == nil && (platform == nil || platformMatches(img, *platform)):
			return img, nil
		case err == nil:
			// dockerd: a local image of another platform is not found,
			// so it is pulled for the platform asked for.
			if co.pull == "never" {
				return nil, fmt.Errorf("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s",
					co.image, platformString(*platform), imagePlatform(img))
			}
		case !errors.Is(err, image.ErrNotFound):
			return nil, err
		case co.pull == "never":
			return nil, fmt.Errorf("No such image: %s", ref.Familiar())
		}
		// -q: nothing about the pull, not even this (docker/cli).
		if !co.quiet {
			fmt.Fprintf(app.Err, "Unable to find image '%s' locally\n", ref.Familiar())
		}
	}
	// Pull progress goes to stderr so stdout carries only the container's
	// output (or ID), as with Docker.
	errApp := *app
	errApp.Out = app.Err
	res, err := pullImage(ctx, &errApp, store, ref, platform, co.quiet)
	if err != nil {
		return nil, err
	}
	return res.Image, nil
}

// toCreate turns the flags into the engine's options, with Docker's
// validation errors.
// platformMatches tells whether img was built for p (os, architecture,
// and variant when both name one; arm64 is arm64/v8).
func platformMatches(img *image.Image, p v1.Platform) bool {
	c := img.Config
	if c.OS != p.OS || c.Architecture != p.Architecture {
		return false
	}
	norm := func(arch, v string) string {
		if arch == "arm64" && v == "" {
			return "v8"
		}
		return v
	}
	iv, pv := norm(c.Architecture, c.Variant), norm(p.Architecture, p.Variant)
	return iv == "" || pv == "" || iv == pv
}

func imagePlatform(img *image.Image) string {
	return platformString(v1.Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant})
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

func (co *createOptions) toCreate(cmd *cobra.Command, img *image.Image) (engine.CreateOptions, error) {
	f := cmd.Flags()
	env, err := buildEnv(co.env, co.envFile)
	if err != nil {
		return engine.CreateOptions{}, cli.FlagError(err)
	}
	labels, err := buildLabels(co.labels, co.labelFile)
	if err != nil {
		return engine.CreateOptions{}, cli.FlagError(err)
	}
	cfg := container.Config{
		Hostname: co.hostname, Domainname: co.domainname, User: co.user,
		Tty: co.tty, OpenStdin: co.interactive, StdinOnce: co.interactive,
		AttachStdin: co.interactive, AttachStdout: true, AttachStderr: true,
		Env: env, Cmd: co.args, WorkingDir: co.workdir, Labels: labels, StopSignal: co.stopSignal,
	}
	if co.detach {
		// docker run -d: no stream attached, and stdin stays open when an
		// attach's input ends (StdinOnce is for the client that runs it).
		cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr, cfg.StdinOnce = false, false, false, false
	}
	if f.Changed("stop-timeout") {
		t := co.stopTimeout
		cfg.StopTimeout = &t
	}
	if co.stopSignal != "" {
		if _, err := engine.ParseSignal(co.stopSignal); err != nil {
			return engine.CreateOptions{}, cli.FlagError(err)
		}
	}
	if len(co.expose) > 0 {
		if cfg.ExposedPorts, err = opts.ParseExposed(co.expose); err != nil {
			return engine.CreateOptions{}, cli.FlagError(err)
		}
	}
	entrypointSet := f.Changed("entrypoint")
	if entrypointSet && co.entrypoint != "" {
		cfg.Entrypoint = []string{co.entrypoint}
	}
	hc, err := co.hostConfig(f)
	if err != nil {
		return engine.CreateOptions{}, err
	}
	networks, err := co.net.apply(&cfg, &hc)
	if err != nil {
		return engine.CreateOptions{}, err
	}
	return engine.CreateOptions{
		Name: co.name, Image: img, ImageRef: co.image, Config: cfg, HostConfig: hc, EntrypointSet: entrypointSet,
		Networks: networks,
	}, nil
}

func (co *createOptions) hostConfig(f *pflag.FlagSet) (container.HostConfig, error) {
	var hc container.HostConfig
	var err error
	bad := func(err error) (container.HostConfig, error) { return hc, cli.FlagError(err) }
	if hc.RestartPolicy, err = opts.ParseRestartPolicy(co.restart); err != nil {
		return bad(err)
	}
	if err := opts.ValidateAutoRemove(co.rm, hc.RestartPolicy); err != nil {
		return bad(err)
	}
	hc.AutoRemove = co.rm
	hc.Privileged = co.privileged
	hc.ReadonlyRootfs = co.readOnly
	if co.initFlag {
		t := true
		hc.Init = &t
	}
	hc.CapAdd, hc.CapDrop = co.capAdd, co.capDrop
	if hc.SecurityOpt, err = opts.ParseSecurityOpts(co.securityOpt); err != nil {
		return bad(err)
	}
	hc.GroupAdd = co.groupAdd
	hc.IpcMode, hc.PidMode, hc.UTSMode, hc.Runtime = co.ipc, co.pid, co.uts, co.runtime
	logType := co.logDriver
	if logType == "" {
		logType = "json-file"
	}
	if logType != "json-file" && logType != "none" {
		return bad(fmt.Errorf("logging driver %q is not supported: use json-file or none", logType))
	}
	hc.LogConfig = container.LogConfig{Type: logType, Config: map[string]string{}}
	for _, kv := range co.logOpts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return bad(fmt.Errorf("invalid log opt: %s", kv))
		}
		hc.LogConfig.Config[k] = v
	}
	if logType == "json-file" {
		if _, err := logging.ParseOptions(hc.LogConfig.Config); err != nil {
			return bad(err)
		}
	}
	if hc.Sysctls, err = opts.ParseSysctls(co.sysctls); err != nil {
		return bad(err)
	}
	if hc.Tmpfs, err = opts.ParseTmpfs(co.tmpfs); err != nil {
		return bad(err)
	}
	if err := co.mountOptions.apply(&hc); err != nil {
		return hc, err
	}
	if co.shmSize != "" {
		if hc.ShmSize, err = opts.ParseShmSize(co.shmSize); err != nil {
			return bad(err)
		}
	}
	r := &hc.Resources
	r.Memory, r.MemorySwap, r.MemoryReservation = int64(co.memory), int64(co.memorySwap), int64(co.memoryRes)
	r.NanoCPUs = int64(co.cpus)
	r.CPUShares, r.CPUPeriod, r.CPUQuota = co.cpuShares, co.cpuPeriod, co.cpuQuota
	r.CpusetCpus, r.CpusetMems = co.cpusetCpus, co.cpusetMems
	if f.Changed("pids-limit") {
		n := co.pidsLimit
		r.PidsLimit = &n
	}
	if r.Ulimits, err = opts.ParseUlimits(co.ulimits); err != nil {
		return bad(err)
	}
	if r.Devices, err = opts.ParseDevices(co.devices); err != nil {
		return bad(err)
	}
	return hc, nil
}

func buildEnv(env, files []string) ([]string, error) {
	return opts.MergeEnv(files, env, os.LookupEnv)
}

func buildLabels(labels, files []string) (map[string]string, error) {
	return opts.MergeLabels(files, labels)
}
