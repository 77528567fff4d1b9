// Command nerd-shim-runc is the libcontainer half of the container monitor
// (see cmd/nerd-shim/internal/runcapi): a short-lived helper that the
// monitor runs for each libcontainer operation, and the container's init
// when libcontainer re-executes it. It needs cgo (nsenter) and the seccomp
// build tag: go build -tags seccomp.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/sys/userns"
	_ "github.com/opencontainers/cgroups/devices" // device rules of the cgroup config
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	_ "github.com/opencontainers/runc/libcontainer/nsenter" // nsexec() runs before the Go runtime in the re-exec
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/nerd-project/nerd/cmd/nerd-shim/internal/cgroupwarm"
	"github.com/nerd-project/nerd/cmd/nerd-shim/internal/runcapi"
)

func init() {
	// libcontainer re-executes this binary as the container's init; this
	// must run before main and never returns.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
}

func main() {
	// Our stdio is the container's: libcontainer's warnings must not end up
	// in the container's log. Errors travel in the Result.
	logrus.SetOutput(io.Discard)
	res := run()
	out := os.NewFile(runcapi.FdResult, "result")
	if err := json.NewEncoder(out).Encode(res); err != nil {
		os.Exit(2)
	}
	out.Close()
	if res.Error != "" {
		os.Exit(1)
	}
}

func run() runcapi.Result {
	if len(os.Args) != 2 {
		return failure(errors.New("usage: nerd-shim-runc OP (run by nerd-shim)"))
	}
	if op := os.Args[1]; op == runcapi.OpStart || op == runcapi.OpExec {
		cgroupwarm.Start()
	}
	var req runcapi.Request
	in := os.NewFile(runcapi.FdRequest, "request")
	if in == nil {
		return failure(errors.New("no request on fd 3"))
	}
	err := json.NewDecoder(in).Decode(&req)
	in.Close()
	if err != nil {
		return failure(fmt.Errorf("reading request: %w", err))
	}
	switch os.Args[1] {
	case runcapi.OpStart:
		return start(&req)
	case runcapi.OpExec:
		return execProcess(&req)
	case runcapi.OpPause, runcapi.OpResume:
		return pauseResume(&req, os.Args[1] == runcapi.OpPause)
	case runcapi.OpUpdate:
		return update(&req)
	case runcapi.OpDestroy:
		return destroy(&req)
	}
	return failure(fmt.Errorf("unknown op %q", os.Args[1]))
}

func failure(err error) runcapi.Result {
	res := runcapi.Result{Error: err.Error(), Code: 125}
	if errors.Is(err, libcontainer.ErrNotRunning) || errors.Is(err, libcontainer.ErrNotExist) {
		res.NotRunning = true
	}
	return res
}

// startFailure is a failed Run: Docker's message and 126/127 when the
// process could not be executed.
func startFailure(err error) runcapi.Result {
	msg, code := runcapi.Classify(err.Error())
	return runcapi.Result{Error: msg, Code: code}
}

func loadSpec(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("reading config.json: %w", err)
	}
	if s.Process == nil {
		return nil, errors.New("config.json has no process")
	}
	return &s, nil
}

// libcontainerConfig converts the spec. specconv records the working
// directory as the bundle (hooks see it), so run from the bundle.
func libcontainerConfig(req *runcapi.Request, spec *specs.Spec) (*configs.Config, error) {
	if err := os.Chdir(req.Bundle); err != nil {
		return nil, err
	}
	rootless := os.Geteuid() != 0
	return specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       req.ID,
		UseSystemdCgroup: false,
		NoPivotRoot:      false,
		Spec:             spec,
		RootlessEUID:     rootless,
		RootlessCgroups:  rootless || userns.RunningInUserNS(),
	})
}

func start(req *runcapi.Request) runcapi.Result {
	spec, err := loadSpec(req.Bundle)
	if err != nil {
		return failure(err)
	}
	cfg, err := libcontainerConfig(req, spec)
	if err != nil {
		return failure(err)
	}
	// The cache lives beside libcontainer's state root, on tmpfs: one
	// compile per profile per boot.
	precompileSeccomp(cfg, filepath.Join(filepath.Dir(req.Root), "seccomp"))
	c, err := libcontainer.Create(req.Root, req.ID, cfg)
	if errors.Is(err, libcontainer.ErrExist) {
		// Left over by a monitor that died (or a restart whose destroy
		// failed): clear it and try once more.
		if err := removeContainer(req); err != nil {
			return failure(err)
		}
		c, err = libcontainer.Create(req.Root, req.ID, cfg)
	}
	if err != nil {
		return failure(err)
	}
	proc, err := newProcess(spec.Process, req.Console)
	if err != nil {
		_ = c.Destroy()
		return failure(err)
	}
	proc.Init = true
	if err := c.Run(proc); err != nil {
		_ = c.Destroy()
		return startFailure(err)
	}
	pid, _ := proc.Pid()
	res := runcapi.Result{Pid: pid}
	if st, err := c.State(); err == nil {
		res.CgroupPaths = st.CgroupPaths
	}
	return res
}

// execProcess runs a process in the container. As Docker does, the
// container's own process settings are the base: the request sets the
// command, environment, directory, user and terminal.
func execProcess(req *runcapi.Request) runcapi.Result {
	var r specs.Process
	if err := json.Unmarshal(req.Process, &r); err != nil {
		return failure(fmt.Errorf("exec: bad process: %w", err))
	}
	if len(r.Args) == 0 {
		return failure(errors.New("exec: no command"))
	}
	if req.NoTerminal {
		r.Terminal = false
	}
	c, err := libcontainer.Load(req.Root, req.ID)
	if err != nil {
		return failure(err)
	}
	switch st, err := c.Status(); {
	case err != nil:
		return failure(err)
	case st == libcontainer.Paused:
		return failure(fmt.Errorf("container %s is paused, unpause the container before exec", req.ID))
	case st != libcontainer.Running:
		return failure(fmt.Errorf("container %s: %w", req.ID, libcontainer.ErrNotRunning))
	}
	spec, err := loadSpec(req.Bundle)
	if err != nil {
		return failure(err)
	}
	p := *spec.Process
	p.Args, p.Terminal, p.User = r.Args, r.Terminal, r.User
	p.ConsoleSize = r.ConsoleSize
	if len(r.Env) > 0 {
		p.Env = r.Env
	}
	if r.Cwd != "" {
		p.Cwd = r.Cwd
	}
	if r.Capabilities != nil {
		p.Capabilities = r.Capabilities
	}
	if r.NoNewPrivileges {
		p.NoNewPrivileges = true
	}
	proc, err := newProcess(&p, req.Console)
	if err != nil {
		return failure(err)
	}
	if err := c.Run(proc); err != nil {
		return startFailure(err)
	}
	pid, _ := proc.Pid()
	return runcapi.Result{Pid: pid}
}

func pauseResume(req *runcapi.Request, pause bool) runcapi.Result {
	c, err := libcontainer.Load(req.Root, req.ID)
	if err != nil {
		return failure(err)
	}
	if pause {
		err = c.Pause()
	} else {
		err = c.Resume()
	}
	if err != nil {
		return failure(err)
	}
	return runcapi.Result{}
}

// update applies new limits: the cgroup part of what the spec with these
// resources converts to, so units and defaults are exactly those of start.
func update(req *runcapi.Request) runcapi.Result {
	var res specs.LinuxResources
	if err := json.Unmarshal(req.Resources, &res); err != nil {
		return failure(fmt.Errorf("update: bad resources: %w", err))
	}
	c, err := libcontainer.Load(req.Root, req.ID)
	if err != nil {
		return failure(err)
	}
	spec, err := loadSpec(req.Bundle)
	if err != nil {
		return failure(err)
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	spec.Linux.Resources = &res
	fresh, err := libcontainerConfig(req, spec)
	if err != nil {
		return failure(err)
	}
	cfg := c.Config()
	// Config shares the Cgroups pointer with the live container, whose
	// copy Set restores on failure: change a copy.
	cg := *cfg.Cgroups
	cg.Resources = fresh.Cgroups.Resources
	cfg.Cgroups = &cg
	if err := c.Set(cfg); err != nil {
		return failure(err)
	}
	return runcapi.Result{}
}

func destroy(req *runcapi.Request) runcapi.Result {
	if err := removeContainer(req); err != nil {
		return failure(err)
	}
	return runcapi.Result{}
}

// removeContainer destroys the libcontainer container, killing an init
// that still runs (an orphan of a dead monitor); a missing one is fine.
func removeContainer(req *runcapi.Request) error {
	c, err := libcontainer.Load(req.Root, req.ID)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st, _ := c.Status(); st != libcontainer.Stopped {
		// SIGKILL also thaws a frozen cgroup.
		_ = c.Signal(unix.SIGKILL)
		for i := 0; i < 200; i++ {
			if st, _ := c.Status(); st == libcontainer.Stopped {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return c.Destroy()
}

// newProcess is runc's newProcess: the libcontainer form of an OCI
// process, with the helper's stdio (or the console socket) as its stdio.
func newProcess(p *specs.Process, console bool) (*libcontainer.Process, error) {
	lp := &libcontainer.Process{
		Args:            p.Args,
		Env:             p.Env,
		UID:             int(p.User.UID),
		GID:             int(p.User.GID),
		Cwd:             p.Cwd,
		Label:           p.SelinuxLabel,
		NoNewPrivileges: &p.NoNewPrivileges,
		AppArmorProfile: p.ApparmorProfile,
		Scheduler:       p.Scheduler,
		IOPriority:      p.IOPriority,
	}
	if p.ConsoleSize != nil {
		lp.ConsoleWidth = uint16(p.ConsoleSize.Width)
		lp.ConsoleHeight = uint16(p.ConsoleSize.Height)
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{
			Bounding: c.Bounding, Effective: c.Effective, Inheritable: c.Inheritable,
			Permitted: c.Permitted, Ambient: c.Ambient,
		}
	}
	for _, g := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	for _, rl := range p.Rlimits {
		t, ok := rlimits[rl.Type]
		if !ok {
			return nil, fmt.Errorf("wrong rlimit value: %s", rl.Type)
		}
		lp.Rlimits = append(lp.Rlimits, configs.Rlimit{Type: t, Hard: rl.Hard, Soft: rl.Soft})
	}
	aff, err := configs.ConvertCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return nil, err
	}
	lp.CPUAffinity = aff
	if console {
		if !p.Terminal {
			return nil, errors.New("console socket given for a process without a terminal")
		}
		lp.ConsoleSocket = os.NewFile(runcapi.FdConsole, "console-socket")
	} else {
		if p.Terminal {
			return nil, errors.New("process has a terminal but no console socket was given")
		}
		lp.Stdin, lp.Stdout, lp.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	return lp, nil
}

var rlimits = map[string]int{
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
}
