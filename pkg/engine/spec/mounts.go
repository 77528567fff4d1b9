package spec

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultShmSize is Docker's /dev/shm size when --shm-size is not given.
const DefaultShmSize = 64 << 20

// defaultMounts is Docker's DefaultLinuxSpec mount list, in its order.
func defaultMounts(shmSize int64) []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(shmSize, 10)}},
	}
}

// mounts assembles the mount list the way dockerd's WithMounts does:
// defaults (minus those a user mount replaces), then the user mounts sorted
// so parents come before children, then the read-only rootfs and
// privileged adjustments, and the masked/read-only paths.
func (g *generator) mounts() error {
	shm := g.hc.ShmSize // Validate defaulted it

	user, err := g.userMounts()
	if err != nil {
		return err
	}
	userDest := make(map[string]bool, len(user))
	for _, m := range user {
		userDest[m.Destination] = true
	}

	var ms []specs.Mount
	for _, m := range defaultMounts(shm) {
		if userDest[m.Destination] {
			continue
		}
		if userDest["/dev"] && strings.HasPrefix(m.Destination, "/dev/") {
			continue
		}
		if m.Destination == "/dev/shm" && g.hc.IpcMode == "none" {
			continue
		}
		ms = append(ms, m)
	}
	if g.hc.Init != nil && *g.hc.Init && !isHostMode(g.hc.PidMode) {
		ms = append(ms, specs.Mount{Destination: InitMountPath, Type: "bind", Source: g.in.InitPath, Options: []string{"bind", "ro"}})
	}
	ms = append(ms, user...)

	if g.hc.ReadonlyRootfs {
		for i, m := range ms {
			switch m.Destination {
			case "/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev":
				continue
			}
			if !userDest[m.Destination] && !slices.Contains(m.Options, "ro") {
				ms[i].Options = append(ms[i].Options, "ro")
			}
		}
	}
	if g.hc.Privileged {
		// Privileged containers may write /sys and their cgroups.
		for i, m := range ms {
			if m.Destination == "/sys" || m.Type == "cgroup" {
				ms[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			}
		}
	}
	g.s.Mounts = ms

	if !g.hc.Privileged && !g.sec.unconfinedPaths {
		g.s.Linux.MaskedPaths = maskedPaths()
		g.s.Linux.ReadonlyPaths = readonlyPaths()
	}
	return nil
}

// userMounts are the mounts that stand in for Docker's container mounts:
// the hostname/hosts/resolv.conf files, --tmpfs, and the host's /dev/shm
// for --ipc host, and the volumes and binds (volumes.go).
func (g *generator) userMounts() ([]specs.Mount, error) {
	var ms []specs.Mount
	if g.in.ContainerDir != "" {
		// Writable unless the rootfs is read-only, like Docker's network
		// mounts; "rprivate" is Docker's default propagation for binds.
		for _, f := range []struct{ file, dest string }{
			{"resolv.conf", "/etc/resolv.conf"},
			{"hostname", "/etc/hostname"},
			{"hosts", "/etc/hosts"},
		} {
			src := filepath.Join(g.in.ContainerDir, f.file)
			staged := src
			if g.in.StagingDir != "" {
				staged = filepath.Join(g.in.StagingDir, f.file)
			}
			if _, err := os.Stat(staged); err != nil {
				continue
			}
			opts := []string{"rbind"}
			if g.hc.ReadonlyRootfs {
				opts = append(opts, "ro")
			}
			opts = append(opts, "rprivate")
			ms = append(ms, specs.Mount{Destination: f.dest, Type: "bind", Source: src, Options: opts})
		}
	}
	if isHostMode(g.hc.IpcMode) {
		ms = append(ms, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rprivate"}})
	}

	vols, err := g.volumeMounts()
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		// A volume or bind replaces an /etc file mount on the same path.
		ms = slices.DeleteFunc(ms, func(m specs.Mount) bool { return m.Destination == v.Destination })
		ms = append(ms, v)
	}

	dests := make([]string, 0, len(g.hc.Tmpfs))
	for d := range g.hc.Tmpfs {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		if err := ValidateTmpfsDestination(d); err != nil {
			return nil, err
		}
		opts := []string{"noexec", "nosuid", "nodev", "rprivate"}
		opts = append(opts, splitOptions(g.hc.Tmpfs[d])...)
		merged, err := MergeTmpfsOptions(opts)
		if err != nil {
			return nil, fmt.Errorf("--tmpfs %s: %w", d, err)
		}
		dest := path.Clean(d)
		// A later mount on the same path wins, as with Docker.
		ms = slices.DeleteFunc(ms, func(m specs.Mount) bool { return m.Destination == dest })
		ms = append(ms, specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: merged})
	}

	// Parents before children: mounting /run after /run/x would hide it.
	sort.SliceStable(ms, func(i, j int) bool { return depth(ms[i].Destination) < depth(ms[j].Destination) })
	return ms, nil
}

// splitOptions splits a comma-separated option list, skipping empty items.
func splitOptions(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o != "" {
			out = append(out, o)
		}
	}
	return out
}

func depth(p string) int { return strings.Count(path.Clean(p), "/") }

// ValidateTmpfsDestination is dockerd's check of a --tmpfs path.
func ValidateTmpfsDestination(dest string) error {
	if path.Clean(dest) == "/" {
		return fmt.Errorf("invalid specification: destination can't be '/'")
	}
	if !path.IsAbs(dest) {
		return fmt.Errorf("invalid mount path: '%s' mount path must be absolute", dest)
	}
	return nil
}

// tmpfsFlags maps the mount flags allowed in --tmpfs options to a group:
// an option and its opposite (or two propagation modes) collide, and the
// later one wins.
var tmpfsFlags = func() map[string]string {
	groups := [][]string{
		{"ro", "rw"}, {"suid", "nosuid"}, {"dev", "nodev"}, {"exec", "noexec"},
		{"sync", "async"}, {"dirsync"}, {"remount"}, {"mand", "nomand"},
		{"atime", "noatime"}, {"diratime", "nodiratime"}, {"relatime", "norelatime"},
		{"strictatime", "nostrictatime"},
		{"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"},
	}
	m := map[string]string{}
	for _, g := range groups {
		for _, f := range g {
			m[f] = g[0]
		}
	}
	return m
}()

// tmpfsData are the tmpfs "key=value" options Docker accepts.
var tmpfsData = map[string]bool{"size": true, "mode": true, "uid": true, "gid": true, "nr_inodes": true, "nr_blocks": true, "mpol": true}

// MergeTmpfsOptions is moby's mount.MergeTmpfsOptions: it drops duplicates
// and options overridden by a later one ("exec" after the default
// "noexec"), keeping order, and rejects unknown options.
func MergeTmpfsOptions(options []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i := len(options) - 1; i >= 0; i-- {
		o := options[i]
		if o == "defaults" || o == "" {
			continue
		}
		key, isFlag := tmpfsFlags[o]
		if !isFlag {
			k, _, ok := strings.Cut(o, "=")
			if !ok || !tmpfsData[k] {
				return nil, fmt.Errorf("invalid tmpfs option %q", o)
			}
			key = "=" + k
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, o)
	}
	slices.Reverse(out)
	return out, nil
}
