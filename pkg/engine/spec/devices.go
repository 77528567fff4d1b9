package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDeviceRules is Docker's cgroup device policy: deny everything,
// then allow the devices every container gets (null, zero, full, random,
// urandom, tty, console) and explicitly deny /dev/fuse. runc adds its own
// allow rules for the devices it creates (pts, ptmx, tun).
func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	allow := func(major, minor int64) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(major), Minor: ptr(minor), Access: "rwm"}
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		allow(1, 5), // /dev/zero
		allow(1, 3), // /dev/null
		allow(1, 9), // /dev/urandom
		allow(1, 8), // /dev/random
		allow(5, 0), // /dev/tty
		allow(5, 1), // /dev/console
		{Allow: false, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(229)), Access: "rwm"}, // /dev/fuse
	}
}

// devices fills linux.devices and the cgroup device rules. A privileged
// container gets every host device and an allow-all rule; otherwise each
// --device is stat'ed on the host (a directory adds the devices under it)
// and allowed with its permissions.
func (g *generator) devices() error {
	var devs []specs.LinuxDevice
	rules := defaultDeviceRules()
	if g.hc.Privileged {
		host, err := HostDevices()
		if err != nil {
			return err
		}
		devs = append(devs, host...)
		for _, m := range g.hc.Devices {
			if m.PathOnHost == m.PathInContainer {
				continue // already there with the host's /dev
			}
			d, _, err := DevicesFromPath(m.PathOnHost, m.PathInContainer, "rwm")
			if err != nil {
				return err
			}
			devs = append(devs, d...)
		}
		rules = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	} else {
		for _, m := range g.hc.Devices {
			perms := m.CgroupPermissions
			if perms == "" {
				perms = "rwm"
			}
			dest := m.PathInContainer
			if dest == "" {
				dest = m.PathOnHost
			}
			d, r, err := DevicesFromPath(m.PathOnHost, dest, perms)
			if err != nil {
				return err
			}
			devs = append(devs, d...)
			rules = append(rules, r...)
		}
	}
	g.s.Linux.Devices = devs
	g.s.Linux.Resources.Devices = rules
	return nil
}

var errNotDevice = errors.New("not a device node")

// DevicesFromPath is moby's oci.DevicesFromPath: the device at hostPath (a
// symlink is followed) as containerPath, or every device below hostPath if
// it is a directory, with a cgroup rule granting perms on each.
func DevicesFromPath(hostPath, containerPath, perms string) ([]specs.LinuxDevice, []specs.LinuxDeviceCgroup, error) {
	resolved := hostPath
	if fi, err := os.Lstat(hostPath); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if p, err := filepath.EvalSymlinks(hostPath); err == nil {
			resolved = p
		}
	}
	d, err := deviceFromPath(resolved, containerPath)
	if err == nil {
		return []specs.LinuxDevice{d}, []specs.LinuxDeviceCgroup{deviceRule(d, perms)}, nil
	}
	var devs []specs.LinuxDevice
	var rules []specs.LinuxDeviceCgroup
	if errors.Is(err, errNotDevice) {
		if fi, serr := os.Stat(resolved); serr == nil && fi.IsDir() {
			_ = filepath.WalkDir(resolved, func(p string, _ fs.DirEntry, _ error) error {
				child, cerr := deviceFromPath(p, strings.Replace(p, resolved, containerPath, 1))
				if cerr != nil {
					return nil // not a device: skip, as Docker does
				}
				devs = append(devs, child)
				rules = append(rules, deviceRule(child, perms))
				return nil
			})
		}
	}
	if len(devs) > 0 {
		return devs, rules, nil
	}
	return nil, nil, fmt.Errorf("error gathering device information while adding custom device %q: %w", hostPath, err)
}

// deviceFromPath stats a device node without following symlinks.
func deviceFromPath(hostPath, containerPath string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Lstat(hostPath, &st); err != nil {
		return specs.LinuxDevice{}, err // bare errno, as in Docker's message
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	case unix.S_IFIFO:
		typ = "p"
	default:
		return specs.LinuxDevice{}, errNotDevice
	}
	mode := os.FileMode(st.Mode &^ unix.S_IFMT)
	return specs.LinuxDevice{
		Path:     containerPath,
		Type:     typ,
		Major:    int64(unix.Major(st.Rdev)),
		Minor:    int64(unix.Minor(st.Rdev)),
		FileMode: &mode,
		UID:      ptr(st.Uid),
		GID:      ptr(st.Gid),
	}, nil
}

func deviceRule(d specs.LinuxDevice, perms string) specs.LinuxDeviceCgroup {
	return specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: ptr(d.Major), Minor: ptr(d.Minor), Access: perms}
}

// HostDevices lists the host's /dev for --privileged, skipping what the
// runtime mounts itself (pts, shm, mqueue), fifos and the console, as
// containerd's HostDevices does.
func HostDevices() ([]specs.LinuxDevice, error) {
	return hostDevicesIn("/dev")
}

func hostDevicesIn(dir string) ([]specs.LinuxDevice, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list host devices: %w", err)
	}
	var out []specs.LinuxDevice
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			switch e.Name() {
			case "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev":
				continue
			}
			sub, err := hostDevicesIn(p)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		if e.Name() == "console" {
			continue
		}
		d, err := deviceFromPath(p, p)
		if err != nil {
			// Not a device, or gone since ReadDir: neither matters here.
			continue
		}
		if d.Type == "p" {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}
