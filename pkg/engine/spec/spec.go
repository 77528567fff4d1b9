// Package spec turns a container record into the OCI runtime spec that the
// monitor hands to libcontainer. It follows what dockerd does (moby's
// daemon/oci defaults plus daemon/oci_linux.go) so a container started by
// nerd sees the same process, mounts, capabilities, seccomp profile,
// namespaces and cgroup limits as one started by Docker.
//
// Generate also performs the checks dockerd performs when a container is
// created (resource ranges, namespace modes, sysctls, capabilities), so the
// engine can call it at create time and refuse bad input before anything is
// written to disk.
package spec

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultCgroupParent is where container cgroups live unless told
// otherwise. It must be absolute: an empty or relative cgroupsPath makes
// libcontainer nest the cgroup under the caller's own (see
// this-machine.md §1).
const DefaultCgroupParent = "/nerd"

// DefaultPathEnv is Docker's PATH for Linux containers whose image sets none.
const DefaultPathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// InitMountPath is where --init's binary appears in the container (Docker's
// /sbin/docker-init, so scripts that look for it keep working).
const InitMountPath = "/sbin/docker-init"

// Input is everything Generate needs. Record.Config is the effective config
// as Docker's inspect shows it: Env, Cmd, Entrypoint, WorkingDir and User
// already merged with the image's (see MergeImageEnv).
type Input struct {
	Record *container.Record
	// Rootfs is the absolute path of the container's root filesystem.
	Rootfs string
	// LowerDirs are the image's snapshot directories, topmost first; the
	// image's /etc/passwd and /etc/group are looked up there (after Rootfs,
	// in case it is already mounted) to resolve --user and HOME.
	LowerDirs []string
	// ContainerDir holds the hostname, hosts and resolv.conf files that are
	// bind-mounted over /etc when present.
	ContainerDir string
	// StagingDir is where those files are while the container is being
	// created (they reach ContainerDir when it is renamed into place).
	StagingDir string
	// CgroupParent defaults to DefaultCgroupParent.
	CgroupParent string
	// HostRlimits returns the host's limits for an RLIMIT_* resource;
	// nil reads them with getrlimit(2).
	HostRlimits func(resource int) (soft, hard uint64)
	// InitPath is a static init binary for --init; "" makes --init fail.
	InitPath string
	// Host describes the machine; nil detects it (see DetectHost).
	Host *Host
	// Warnf receives the warnings dockerd would print (a clamped ulimit, an
	// ignored option); nil discards them.
	Warnf func(format string, args ...any)
	// Hooks are the OCI hooks (networking's createRuntime and poststop).
	Hooks *specs.Hooks
	// NetNSPath is the network namespace to join (--network container:NAME).
	NetNSPath string
}

// Generate builds the OCI runtime spec for in.Record.
func Generate(in Input) (*specs.Spec, error) {
	if in.Record == nil {
		return nil, errors.New("generate spec: no container record")
	}
	if in.Record.ID == "" {
		return nil, errors.New("generate spec: container record has no ID")
	}
	if !filepath.IsAbs(in.Rootfs) {
		return nil, fmt.Errorf("generate spec: rootfs %q is not an absolute path", in.Rootfs)
	}
	// Work on a copy: Validate fills in defaults, and generating a spec
	// must not change the caller's record.
	hc := in.Record.HostConfig
	g := &generator{in: in, rec: in.Record, hc: &hc}
	if in.Host != nil {
		g.host = *in.Host
	} else {
		g.host = DetectHost()
	}
	if in.Warnf != nil {
		g.warnf = in.Warnf
	} else {
		g.warnf = func(string, ...any) {}
	}
	if in.HostRlimits != nil {
		g.hostRlimit = in.HostRlimits
	} else {
		g.hostRlimit = getrlimit
	}
	return g.generate()
}

// generator carries the state shared by the steps of one Generate call.
type generator struct {
	in         Input
	rec        *container.Record
	hc         *container.HostConfig
	host       Host
	warnf      func(string, ...any)
	hostRlimit func(int) (uint64, uint64)
	sec        securityOpts
	s          *specs.Spec
}

func (g *generator) generate() (*specs.Spec, error) {
	if err := Validate(g.hc, g.host); err != nil {
		return nil, err
	}
	g.sec, _ = parseSecurityOpts(g.hc.SecurityOpt) // checked by Validate
	for _, w := range g.sec.ignored {
		g.warnf("--security-opt %s is not supported by nerd and is ignored", w)
	}

	g.s = &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: g.in.Rootfs, Readonly: g.hc.ReadonlyRootfs},
		Process: &specs.Process{},
		Linux: &specs.Linux{
			Sysctl:    map[string]string{},
			Resources: &specs.LinuxResources{},
		},
	}
	// The order matters: seccomp needs the final capability set (the
	// default profile allows syscalls per capability), mounts need the
	// namespace decisions (/dev/shm for --ipc host).
	steps := []func() error{
		g.process,
		g.namespaces,
		g.capabilities,
		g.seccomp,
		g.mounts,
		g.resources,
		g.devices,
		g.rlimits,
		g.sysctls,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	g.s.Hooks = g.in.Hooks
	return g.s, nil
}

// process fills process args, env, cwd, terminal, user and the hostname.
func (g *generator) process() error {
	cfg := &g.rec.Config
	args := commandArgs(cfg.Entrypoint, cfg.Cmd)
	if len(args) == 0 || args[0] == "" {
		return errors.New("no command specified")
	}
	// Like dockerd, --init only makes sense as pid 1 of a private pid
	// namespace; with --pid host it is silently not added.
	if g.hc.Init != nil && *g.hc.Init && !isHostMode(g.hc.PidMode) {
		if g.in.InitPath == "" {
			return errors.New("--init: no init binary available")
		}
		if fi, err := os.Stat(g.in.InitPath); err != nil || !fi.Mode().IsRegular() {
			return fmt.Errorf("--init: no init binary available at %s", g.in.InitPath)
		}
		args = append([]string{InitMountPath, "--"}, args...)
	}

	usr, home, err := resolveUser(g.in.Rootfs, g.in.LowerDirs, cfg.User, g.hc.GroupAdd)
	if err != nil {
		return err
	}

	hostname := g.hostname()
	if !isHostMode(g.hc.UTSMode) {
		g.s.Hostname = hostname
		g.s.Domainname = cfg.Domainname
	}

	defaults := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=" + hostname}
	if cfg.Tty {
		defaults = append(defaults, "TERM=xterm")
	}
	env := ReplaceOrAppendEnv(defaults, cfg.Env)
	if v, ok := lookupEnv(env, "HOME"); !ok || v == "" {
		env = ReplaceOrAppendEnv(env, []string{"HOME=" + home})
	}

	cwd := cfg.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		return fmt.Errorf("the working directory '%s' is invalid, it needs to be an absolute path", cwd)
	}
	zero := 0
	g.s.Process = &specs.Process{
		Terminal:        cfg.Tty,
		User:            usr,
		Args:            args,
		Env:             env,
		Cwd:             cwd,
		NoNewPrivileges: g.sec.noNewPrivileges,
		OOMScoreAdj:     &zero,
	}
	return nil
}

// commandArgs is Docker's entrypoint+cmd. An entrypoint of [""] is what
// `--entrypoint ""` stores: it resets the image's entrypoint and adds
// nothing to argv.
func commandArgs(entrypoint, cmd []string) []string {
	if len(entrypoint) == 1 && entrypoint[0] == "" {
		entrypoint = nil
	}
	args := make([]string, 0, len(entrypoint)+len(cmd))
	args = append(args, entrypoint...)
	return append(args, cmd...)
}

// hostname is -h, else the host's name with --network host or --uts host
// (what the container sees anyway), else the short ID as Docker does.
func (g *generator) hostname() string {
	if h := g.rec.Config.Hostname; h != "" {
		return h
	}
	if isHostMode(g.hc.NetworkMode) || isHostMode(g.hc.UTSMode) {
		if g.host.Hostname != "" {
			return g.host.Hostname
		}
	}
	id := g.rec.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// ReplaceOrAppendEnv applies overrides to base like dockerd's
// ReplaceOrAppendEnvValues: KEY=VALUE replaces or appends KEY, a bare KEY
// removes it.
func ReplaceOrAppendEnv(base, overrides []string) []string {
	out := append([]string(nil), base...)
	index := make(map[string]int, len(out))
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	removed := make(map[int]bool)
	for _, kv := range overrides {
		k, _, hasValue := strings.Cut(kv, "=")
		i, exists := index[k]
		switch {
		case !hasValue:
			if exists {
				removed[i] = true
			}
		case exists:
			out[i] = kv
			delete(removed, i)
		default:
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	if len(removed) == 0 {
		return out
	}
	kept := out[:0]
	for i, kv := range out {
		if !removed[i] {
			kept = append(kept, kv)
		}
	}
	return kept
}

// MergeImageEnv is how dockerd combines a new container's env with its
// image's at create: the user's entries first, then every image entry whose
// key the user did not set.
func MergeImageEnv(image, user []string) []string {
	if len(user) == 0 {
		return append([]string(nil), image...)
	}
	set := make(map[string]bool, len(user))
	for _, kv := range user {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	out := append([]string(nil), user...)
	for _, kv := range image {
		k, _, _ := strings.Cut(kv, "=")
		if !set[k] {
			out = append(out, kv)
		}
	}
	return out
}

func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

func getrlimit(resource int) (soft, hard uint64) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(resource, &rl); err != nil {
		// Unknown to this kernel: report "unlimited" so nothing is clamped
		// and the runtime reports the real problem.
		return unix.RLIM_INFINITY, unix.RLIM_INFINITY
	}
	return rl.Cur, rl.Max
}
