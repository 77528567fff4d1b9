package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// Data written through a named volume survives the container and is seen
// by the next one; rm, rm -v and --rm never remove a named volume.
func TestVolumeNamedSurvivesRm(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	e.nerdOK("run", "--name", "wr", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	e.nerdOK("rm", "-v", "wr")
	if !e.hasVolume("data") {
		t.Fatalf("named volume gone after rm -v: %v", e.volumes())
	}
	r := e.nerdOK("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f")
	if got := strings.TrimSpace(r.Stdout); got != "kept" {
		t.Fatalf("second container read %q, want %q", got, "kept")
	}
	if !e.hasVolume("data") {
		t.Fatalf("named volume gone after --rm")
	}
	if got := readHost(filepath.Join(e.volumeData("data"), "f")); got != "kept" {
		t.Fatalf("host copy %q", got)
	}
	v := e.volumeInspect("data")
	if v.Driver != "local" || v.Scope != "local" || v.Mountpoint != e.volumeData("data") || v.Name != "data" {
		t.Errorf("volume inspect: %+v", v)
	}
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// -v /path makes an anonymous volume: 64-hex name, Docker's label, shown
// in .Mounts; rm keeps it, rm -v removes it.
func TestVolumeAnonymous(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	e.nerdOK("create", "--name", "an", "-v", "/data", "busybox")
	ms := e.mounts("an")
	if len(ms) != 1 {
		t.Fatalf(".Mounts = %+v, want one", ms)
	}
	m := ms[0]
	if m.Type != "volume" || !hex64.MatchString(m.Name) || m.Destination != "/data" || m.Driver != "local" || !m.RW || m.Source != e.volumeData(m.Name) {
		t.Errorf(".Mounts[0] = %+v", m)
	}
	if _, ok := e.volumeInspect(m.Name).Labels["com.docker.volume.anonymous"]; !ok {
		t.Errorf("anonymous volume has no com.docker.volume.anonymous label")
	}
	// Removing a volume in use is refused with Docker's message.
	e.nerdFail(1, []string{"volume", "rm", m.Name}, `remove `+m.Name+`: volume is in use - \[[0-9a-f]{64}\]`)
	e.nerdOK("rm", "an")
	if !e.hasVolume(m.Name) {
		t.Fatalf("rm without -v removed the anonymous volume")
	}
	e.nerdOK("create", "--name", "bn", "-v", "/data", "busybox")
	b := e.mounts("bn")[0].Name
	e.nerdOK("rm", "-v", "bn")
	if e.hasVolume(b) {
		t.Fatalf("rm -v kept the anonymous volume %s", b)
	}
	// --rm removes anonymous volumes, foreground and detached, and keeps
	// named ones.
	e.nerdOK("run", "--rm", "-v", "/anon", "-v", "named:/named", "busybox", "true")
	e.nerdOK("run", "-d", "--rm", "-v", "/anon2", "busybox", "true")
	eventually(t, 10e9, "the detached --rm container and its volume gone", func() (bool, string) {
		vs := e.volumes()
		return len(vs) == 2 && len(e.containerIDs()) == 0, strings.Join(vs, " ")
	})
	if vs := e.volumes(); len(vs) != 2 || !e.hasVolume("named") || !e.hasVolume(m.Name) {
		t.Fatalf("volumes after --rm: %v, want %s and named", vs, m.Name)
	}
}

// A bind: rw and ro, the host sees the writes, a missing host path is
// created for -v, a relative ./path is made absolute.
func TestVolumeBind(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	host := filepath.Join(e.Dir, "host")
	if err := os.MkdirAll(host, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(host, "in"), []byte("from host\n"), 0o644)
	r := e.nerdOK("run", "--rm", "-v", host+":/h", "busybox", "sh", "-c", "cat /h/in; echo out > /h/out")
	if !strings.Contains(r.Stdout, "from host") || readHost(filepath.Join(host, "out")) != "out" {
		t.Fatalf("bind rw: %s / out=%q", r, readHost(filepath.Join(host, "out")))
	}
	e.nerdFail(1, []string{"run", "--rm", "-v", host + ":/h:ro", "busybox", "touch", "/h/x"}, "Read-only file system")

	missing := filepath.Join(e.Dir, "new", "dir")
	e.nerdOK("run", "--name", "bd", "-v", missing+":/m:rw,rslave", "busybox", "true")
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Fatalf("-v did not create the missing host path: %v", err)
	}
	ms := e.mounts("bd")
	if len(ms) != 1 || ms[0].Type != "bind" || ms[0].Source != missing || ms[0].Destination != "/m" || ms[0].Mode != "rw,rslave" || !ms[0].RW || ms[0].Propagation != "rslave" || ms[0].Name != "" || ms[0].Driver != "" {
		t.Errorf(".Mounts = %+v", ms)
	}
	binds := e.nerdOK("container", "inspect", "--format", "{{json .HostConfig.Binds}}", "bd").Stdout
	if strings.TrimSpace(binds) != `["`+missing+`:/m:rw,rslave"]` {
		t.Errorf(".HostConfig.Binds = %s", binds)
	}

	// ./rel is relative to the working directory.
	rel := e.run(nil, "sh", "-c", "cd "+e.Dir+" && "+nerdBin+" run --rm -v ./relhost:/r busybox touch /r/made")
	if rel.Code != 0 {
		t.Fatalf("-v ./relhost: %s", rel)
	}
	if _, err := os.Stat(filepath.Join(e.Dir, "relhost", "made")); err != nil {
		t.Fatalf("./relhost was not bound: %v", err)
	}
	// z/Z are accepted and ignored.
	e.nerdOK("run", "--rm", "-v", host+":/h:Z", "busybox", "true")
}

// A new volume over an image directory is first filled from the image,
// owners, modes, symlinks and hard links kept; once only.
func TestVolumeCopyUp(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	e.pullOK("nginx")
	r := e.nerdOK("run", "--rm", "-v", "conf:/etc/nginx", "nginx", "cat", "/etc/nginx/nginx.conf")
	if !strings.Contains(r.Stdout, "http {") {
		t.Fatalf("nginx.conf not copied into the volume:\n%s", r)
	}
	data := e.volumeData("conf")
	for _, p := range []string{"nginx.conf", "mime.types", "sites-enabled/default"} {
		if _, err := os.Lstat(filepath.Join(data, p)); err != nil {
			t.Errorf("volume lacks %s: %v", p, err)
		}
	}
	// sites-enabled/default is a symlink in the image.
	if dest, err := os.Readlink(filepath.Join(data, "sites-enabled", "default")); err != nil || !strings.Contains(dest, "sites-available/default") {
		t.Errorf("sites-enabled/default: %q %v, want the image's symlink", dest, err)
	}
	// Anonymous volumes get a copy too (nginx has /var/www/html).
	r = e.nerdOK("run", "--rm", "-v", "/var/www", "nginx", "ls", "/var/www/html")
	if !strings.Contains(r.Stdout, "index") {
		t.Errorf("anonymous volume over /var/www not populated:\n%s", r)
	}
	// Once only: an emptied volume stays empty.
	e.nerdOK("run", "--rm", "-v", "conf:/etc/nginx", "nginx", "sh", "-c", "rm -rf /etc/nginx/*")
	r = e.nerdOK("run", "--rm", "-v", "conf:/etc/nginx", "nginx", "ls", "-A", "/etc/nginx")
	if strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("an emptied volume was filled again: %q", r.Stdout)
	}
	// A volume holding data is not touched.
	e.nerdOK("run", "--rm", "-v", "mine:/etc/nginx", "busybox", "sh", "-c", "echo mine > /etc/nginx/only")
	r = e.nerdOK("run", "--rm", "-v", "mine:/etc/nginx", "nginx", "ls", "/etc/nginx")
	if strings.TrimSpace(r.Stdout) != "only" {
		t.Errorf("a volume with data got the image's content: %q", r.Stdout)
	}
	// nocopy.
	r = e.nerdOK("run", "--rm", "-v", "nc:/etc/nginx:nocopy", "nginx", "ls", "-A", "/etc/nginx")
	if strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("nocopy volume was filled: %q", r.Stdout)
	}
}

// Ownership, modes and hard links of a crafted image survive the copy;
// the image's VOLUME makes an anonymous volume that gets the content.
func TestVolumeImageVolumeCopyUp(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	f := tFile("srv/data/secret", "s3cret\n", 0o640)
	f.Header.Uid, f.Header.Gid = 1000, 2000
	d := tDir("srv/data/", 0o750)
	d.Header.Uid, d.Header.Gid = 1000, 1000
	ref := volumeImage(t, []string{"/srv/data"}, tDir("srv/", 0o755), d, f,
		tHardlink("srv/data/link", "srv/data/secret"), tSymlink("srv/data/sym", "secret"))
	e.nerdOK("create", "--name", "c1", ref)
	ms := e.mounts("c1")
	if len(ms) != 1 || ms[0].Destination != "/srv/data" || !hex64.MatchString(ms[0].Name) {
		t.Fatalf(".Mounts = %+v, want an anonymous volume at /srv/data", ms)
	}
	data := e.volumeData(ms[0].Name)
	var st syscall.Stat_t
	if err := syscall.Lstat(data, &st); err != nil || st.Uid != 1000 || st.Gid != 1000 || st.Mode&0o7777 != 0o750 {
		t.Errorf("volume root: uid %d gid %d mode %o (%v), want 1000 1000 750", st.Uid, st.Gid, st.Mode&0o7777, err)
	}
	if err := syscall.Lstat(filepath.Join(data, "secret"), &st); err != nil || st.Uid != 1000 || st.Gid != 2000 || st.Mode&0o7777 != 0o640 || st.Nlink != 2 {
		t.Errorf("secret: uid %d gid %d mode %o nlink %d (%v)", st.Uid, st.Gid, st.Mode&0o7777, st.Nlink, err)
	}
	if dest, _ := os.Readlink(filepath.Join(data, "sym")); dest != "secret" {
		t.Errorf("sym -> %q", dest)
	}
	// A user mount on the same path replaces the image volume.
	e.nerdOK("create", "--name", "d1", "-v", "mine:/srv/data", ref)
	if ms := e.mounts("d1"); len(ms) != 1 || ms[0].Name != "mine" {
		t.Errorf(".Mounts = %+v, want only mine", ms)
	}
	e.nerdOK("rm", "-v", "c1", "d1")
	if vs := e.volumes(); len(vs) != 1 || vs[0] != "mine" {
		t.Errorf("volumes after rm -v: %v, want mine", vs)
	}
}

// --volumes-from shares the other container's volumes and binds, ro on
// request.
func TestVolumeVolumesFrom(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	host := filepath.Join(e.Dir, "b")
	e.nerdOK("create", "--name", "src", "-v", "shared:/shared", "-v", "/anon", "-v", host+":/b", "busybox")
	e.nerdOK("run", "--rm", "--volumes-from", "src", "busybox", "sh", "-c", "echo 1 > /shared/x; echo 2 > /anon/y; echo 3 > /b/z")
	if readHost(filepath.Join(e.volumeData("shared"), "x")) != "1" || readHost(filepath.Join(host, "z")) != "3" {
		t.Fatalf("writes through --volumes-from did not land in src's volumes")
	}
	anon := ""
	for _, m := range e.mounts("src") {
		if m.Destination == "/anon" {
			anon = m.Name
		}
	}
	if readHost(filepath.Join(e.volumeData(anon), "y")) != "2" {
		t.Fatalf("anonymous volume not shared")
	}
	// --rm of the borrower did not remove src's anonymous volume.
	if !e.hasVolume(anon) {
		t.Fatalf("--rm of a --volumes-from container removed the lender's anonymous volume")
	}
	e.nerdFail(1, []string{"run", "--rm", "--volumes-from", "src:ro", "busybox", "touch", "/shared/n"}, "Read-only file system")
	e.nerdOK("create", "--name", "ro", "--volumes-from", "src:ro", "busybox")
	for _, m := range e.mounts("ro") {
		if m.RW {
			t.Errorf("--volumes-from src:ro: %+v is RW", m)
		}
	}
	e.nerdFail(125, []string{"run", "--volumes-from", "nosuch", "busybox"}, "No such container: nosuch")
	// rm -v of the lender keeps the anonymous volume the borrower uses.
	e.nerdOK("rm", "-v", "src")
	if !e.hasVolume(anon) {
		t.Fatalf("rm -v removed an anonymous volume still used by another container")
	}
	e.nerdOK("rm", "-v", "ro")
	if e.hasVolume(anon) {
		t.Fatalf("the anonymous volume outlived its last container's rm -v")
	}
}

// --tmpfs and --mount type=tmpfs are empty at each start.
func TestVolumeTmpfsEmptyEachStart(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	e.nerdOK("create", "--name", "tm", "--tmpfs", "/t:size=1m", "--mount", "type=tmpfs,target=/m,tmpfs-size=1m,tmpfs-mode=1777",
		"busybox", "sh", "-c", "ls -A /t /m; touch /t/x /m/y; stat -c %a /m")
	for i := 0; i < 2; i++ {
		r := e.nerdOK("start", "-a", "tm")
		if strings.Contains(r.Stdout, "x") || strings.Contains(r.Stdout, "y") || !strings.Contains(r.Stdout, "1777") {
			t.Fatalf("start %d: tmpfs not fresh (or mode wrong):\n%s", i+1, r)
		}
	}
	ms := e.mounts("tm")
	if len(ms) != 1 || ms[0].Type != "tmpfs" || ms[0].Destination != "/m" || ms[0].Source != "" {
		t.Errorf(".Mounts = %+v", ms)
	}
}
