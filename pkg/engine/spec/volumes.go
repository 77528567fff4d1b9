package spec

import (
	"fmt"
	"slices"

	"github.com/nerd-project/nerd/pkg/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// volumeMounts are the record's mount points (volumes, binds, --mount
// tmpfs) as OCI mounts, in the record's order (parents first).
//
// A local volume with mount options (volume create -o type=tmpfs|nfs|…
// -o device=… -o o=…) is mounted here, in the container's own mount
// namespace, by the runtime at start, instead of on the host by nerd:
// the kernel drops the mount with the namespace, so no crash or kill -9
// of any process can leak it, and no reference counting between
// containers is needed. The one difference from Docker: two containers
// running at once on a type=tmpfs volume each get their own tmpfs (block
// devices, binds and network file systems are shared as usual).
func (g *generator) volumeMounts() ([]specs.Mount, error) {
	var ms []specs.Mount
	for _, mp := range g.rec.MountPoints {
		m, err := mountFor(mp)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		switch mp.Propagation {
		case "shared", "rshared":
			// The container's root must propagate too, as dockerd sets it.
			g.s.Linux.RootfsPropagation = "rshared"
		case "slave", "rslave":
			if g.s.Linux.RootfsPropagation != "rshared" {
				g.s.Linux.RootfsPropagation = "rslave"
			}
		}
	}
	return ms, nil
}

func mountFor(mp container.MountPoint) (specs.Mount, error) {
	m := specs.Mount{Destination: mp.Destination}
	var opts []string
	switch {
	case mp.Type == container.MountTypeTmpfs:
		m.Type, m.Source = "tmpfs", "tmpfs"
		opts = []string{"noexec", "nosuid", "nodev", "rprivate"}
		if t := mp.Tmpfs; t != nil {
			if t.SizeBytes > 0 {
				opts = append(opts, fmt.Sprintf("size=%dk", (t.SizeBytes+1023)/1024))
			}
			if t.Mode != 0 {
				opts = append(opts, fmt.Sprintf("mode=%o", uint32(t.Mode)))
			}
		}
		if !mp.RW {
			opts = append(opts, "ro")
		}
		merged, err := MergeTmpfsOptions(opts)
		if err != nil {
			return m, fmt.Errorf("tmpfs mount %s: %w", mp.Destination, err)
		}
		m.Options = merged
		return m, nil
	case len(mp.VolumeOptions) > 0:
		return optionMount(mp)
	}
	// Binds and plain volumes: the volume's directory is bound.
	m.Type, m.Source = "bind", mp.Source
	if mp.NonRecursive {
		opts = append(opts, "bind")
	} else {
		opts = append(opts, "rbind")
	}
	if !mp.RW {
		opts = append(opts, "ro")
	}
	prop := mp.Propagation
	if prop == "" {
		prop = "rprivate"
	}
	m.Options = append(opts, prop)
	return m, nil
}

// optionMount is a local volume created with type/device/o: the local
// driver's mount(8)-like semantics, type "none" (or o=bind) being a bind
// of device.
func optionMount(mp container.MountPoint) (specs.Mount, error) {
	o := mp.VolumeOptions
	m := specs.Mount{Destination: mp.Destination, Type: o["type"], Source: o["device"]}
	opts := splitOptions(o["o"])
	bind := m.Type == "none" || m.Type == "bind"
	for _, x := range opts {
		if x == "bind" || x == "rbind" {
			bind = true
		}
	}
	if bind {
		if m.Source == "" {
			return m, fmt.Errorf("volume %s: a bind needs a device", mp.Name)
		}
		m.Type = "bind"
		kept := []string{"rbind"}
		for _, x := range opts {
			if x != "bind" && x != "rbind" {
				kept = append(kept, x)
			}
		}
		opts = kept
	}
	if m.Type == "tmpfs" && m.Source == "" {
		m.Source = "tmpfs"
	}
	if m.Type == "" {
		return m, fmt.Errorf("volume %s: missing required option: \"type\"", mp.Name)
	}
	if !mp.RW {
		opts = append(opts, "ro")
	}
	if !slices.ContainsFunc(opts, func(x string) bool { return tmpfsFlags[x] == "private" }) {
		opts = append(opts, "rprivate") // Docker's default propagation
	}
	m.Options = opts
	return m, nil
}
