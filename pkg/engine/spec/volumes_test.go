package spec

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
)

func TestVolumeMounts(t *testing.T) {
	in := newInput(t)
	in.ContainerDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(in.ContainerDir, "hosts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	in.Record.MountPoints = []container.MountPoint{
		{InspectMount: container.InspectMount{Type: "volume", Name: "v", Source: "/vol/v/_data", Destination: "/data", RW: true}},
		{InspectMount: container.InspectMount{Type: "bind", Source: "/host", Destination: "/ro", Propagation: "rslave"}},
		{InspectMount: container.InspectMount{Type: "bind", Source: "/host2", Destination: "/nr", RW: true, Propagation: "rprivate"}, NonRecursive: true},
		{InspectMount: container.InspectMount{Type: "tmpfs", Destination: "/t", RW: true}, Tmpfs: &container.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1777}},
		{InspectMount: container.InspectMount{Type: "volume", Name: "tv", Destination: "/tv", RW: true}, VolumeOptions: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=2m"}},
		{InspectMount: container.InspectMount{Type: "volume", Name: "bv", Destination: "/bv"}, VolumeOptions: map[string]string{"type": "none", "device": "/dev-dir", "o": "bind"}},
		{InspectMount: container.InspectMount{Type: "volume", Name: "host", Source: "/vol/h/_data", Destination: "/etc/hosts", RW: true}},
	}
	s := mustGenerate(t, in)
	check := func(dest, typ, src string, opts ...string) {
		t.Helper()
		m := findMount(s, dest)
		if m == nil {
			t.Fatalf("no mount at %s: %v", dest, mountDests(s))
		}
		if m.Type != typ || m.Source != src || !slices.Equal(m.Options, opts) {
			t.Errorf("%s: %s %s %v, want %s %s %v", dest, m.Type, m.Source, m.Options, typ, src, opts)
		}
	}
	check("/data", "bind", "/vol/v/_data", "rbind", "rprivate")
	check("/ro", "bind", "/host", "rbind", "ro", "rslave")
	check("/nr", "bind", "/host2", "bind", "rprivate")
	check("/t", "tmpfs", "tmpfs", "noexec", "nosuid", "nodev", "rprivate", "size=1024k", "mode=1777")
	check("/tv", "tmpfs", "tmpfs", "size=2m", "rprivate")
	check("/bv", "bind", "/dev-dir", "rbind", "ro", "rprivate")
	// The volume replaces the /etc/hosts file mount.
	check("/etc/hosts", "bind", "/vol/h/_data", "rbind", "rprivate")
	n := 0
	for _, d := range mountDests(s) {
		if d == "/etc/hosts" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("/etc/hosts mounted %d times", n)
	}
	if s.Linux.RootfsPropagation != "rslave" {
		t.Errorf("RootfsPropagation %q, want rslave for an rslave bind", s.Linux.RootfsPropagation)
	}
}
