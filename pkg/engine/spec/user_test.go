package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	testPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App:/home/app:/bin/sh
nohome:x:1001:1001::/nonexistent:/bin/sh
`
	testGroup = `root:x:0:
daemon:x:1:
wheel:x:10:app,root
audio:x:29:app
app:x:1000:
staff:x:50:
`
)

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// imageLayer is a lower dir holding /etc/passwd and /etc/group.
func imageLayer(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc/passwd"), testPasswd)
	writeFile(t, filepath.Join(dir, "etc/group"), testGroup)
	return dir
}

func TestUser(t *testing.T) {
	tests := []struct {
		user     string
		groupAdd []string
		uid, gid uint32
		gids     []uint32
		home     string
	}{
		{"", nil, 0, 0, []uint32{0, 10}, "/root"},
		{"root", nil, 0, 0, []uint32{0, 10}, "/root"},
		{"app", nil, 1000, 1000, []uint32{1000, 10, 29}, "/home/app"},
		{"1000", nil, 1000, 1000, []uint32{1000, 10, 29}, "/home/app"},
		{"app:staff", nil, 1000, 50, []uint32{50}, "/home/app"},
		{"app:7", nil, 1000, 7, []uint32{7}, "/home/app"},
		{"1000:1000", nil, 1000, 1000, []uint32{1000}, "/home/app"},
		{"4242", nil, 4242, 0, []uint32{0}, "/"},
		{"4242:4343", nil, 4242, 4343, []uint32{4343}, "/"},
		{"daemon", []string{"staff", "4000", "wheel"}, 1, 1, []uint32{1, 50, 4000, 10}, "/usr/sbin"},
		{"app", []string{"audio"}, 1000, 1000, []uint32{1000, 10, 29}, "/home/app"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			in := newInput(t)
			in.LowerDirs = []string{imageLayer(t)}
			in.Record.Config.User = tt.user
			in.Record.HostConfig.GroupAdd = tt.groupAdd
			s := mustGenerate(t, in)
			u := s.Process.User
			if u.UID != tt.uid || u.GID != tt.gid || !reflect.DeepEqual(u.AdditionalGids, tt.gids) {
				t.Errorf("user = %d:%d %v, want %d:%d %v", u.UID, u.GID, u.AdditionalGids, tt.uid, tt.gid, tt.gids)
			}
			if h, _ := lookupEnv(s.Process.Env, "HOME"); h != tt.home {
				t.Errorf("HOME = %q, want %q", h, tt.home)
			}
		})
	}
}

func TestUserErrors(t *testing.T) {
	tests := []struct {
		user     string
		groupAdd []string
		noFiles  bool
		want     string
	}{
		{"nobody", nil, false, "unable to find user nobody: no matching entries in passwd file"},
		{"app:nogroup", nil, false, "unable to find group nogroup: no matching entries in group file"},
		{"app", []string{"nogroup"}, false, "Unable to find group nogroup: no matching entries in group file"},
		{"app", nil, true, "unable to find user app: no matching entries in passwd file"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			in := newInput(t)
			if !tt.noFiles {
				in.LowerDirs = []string{imageLayer(t)}
			}
			in.Record.Config.User = tt.user
			in.Record.HostConfig.GroupAdd = tt.groupAdd
			if _, err := Generate(in); err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestUserLayers checks that the topmost layer with the file wins and that
// whiteouts and opaque directories hide the lower ones, as overlayfs does.
func TestUserLayers(t *testing.T) {
	lower := imageLayer(t)

	upper := t.TempDir()
	writeFile(t, filepath.Join(upper, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n")
	in := newInput(t)
	in.LowerDirs = []string{upper, lower}
	in.Record.Config.User = "web"
	u := mustGenerate(t, in).Process.User
	// passwd from the upper layer, group from the lower one.
	if u.UID != 33 || u.GID != 33 {
		t.Errorf("user = %+v", u)
	}

	// The rootfs (when mounted) comes first.
	writeFile(t, filepath.Join(in.Rootfs, "etc/passwd"), "web:x:44:44::/srv:/bin/sh\n")
	if u := mustGenerate(t, in).Process.User; u.UID != 44 {
		t.Errorf("rootfs passwd not preferred: %+v", u)
	}

	whiteout := t.TempDir()
	if err := os.MkdirAll(filepath.Join(whiteout, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(whiteout, "etc/passwd"), unix.S_IFCHR, 0); err != nil {
		t.Skipf("mknod whiteout: %v (needs root)", err)
	}
	in = newInput(t)
	in.LowerDirs = []string{whiteout, lower}
	in.Record.Config.User = "app"
	if _, err := Generate(in); err == nil {
		t.Error("user found through a whiteout")
	}

	opaque := t.TempDir()
	writeFile(t, filepath.Join(opaque, "etc/group"), "root:x:0:\n")
	if err := unix.Setxattr(filepath.Join(opaque, "etc"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Skipf("set opaque xattr: %v", err)
	}
	in.LowerDirs = []string{opaque, lower}
	in.Record.Config.User = "app"
	if _, err := Generate(in); err == nil {
		t.Error("user found below an opaque /etc")
	}
	in.Record.Config.User = "1000"
	if u := mustGenerate(t, in).Process.User; u.UID != 1000 || u.GID != 0 {
		t.Errorf("numeric user below an opaque /etc: %+v", u)
	}
}

// TestUserSymlinkStaysInRootfs: an image's /etc/passwd symlink to an
// absolute path must resolve inside the rootfs, not read the host's file.
func TestUserSymlinkStaysInRootfs(t *testing.T) {
	in := newInput(t)
	writeFile(t, filepath.Join(in.Rootfs, "x/passwd"), "inside:x:77:77::/:/bin/sh\n")
	if err := os.MkdirAll(filepath.Join(in.Rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/x/passwd", filepath.Join(in.Rootfs, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	in.Record.Config.User = "inside"
	if u := mustGenerate(t, in).Process.User; u.UID != 77 {
		t.Errorf("user = %+v", u)
	}
	// An escaping target: on the host it is /etc/group, whose "root:x:0:"
	// line would parse as a passwd entry; inside the rootfs it is absent.
	if err := os.Remove(filepath.Join(in.Rootfs, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../etc/group", filepath.Join(in.Rootfs, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	in.Record.Config.User = "root"
	if _, err := Generate(in); err == nil {
		t.Fatal("user resolved through a symlink out of the rootfs")
	}
}
