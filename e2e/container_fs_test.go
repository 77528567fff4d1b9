package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The container filesystem commands of issue 3: cp, diff, export, commit,
// plus stats and port.

// tarList reads a tar stream into name → header (and regular files'
// contents).
func tarList(t testing.TB, data []byte) (map[string]*tar.Header, map[string]string) {
	t.Helper()
	hdrs := map[string]*tar.Header{}
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading tar stream: %v", err)
		}
		hdrs[h.Name] = h
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[h.Name] = string(b)
		}
	}
	return hdrs, files
}

// tarOf builds a tar stream from name → content ("/" suffix: directory).
func tarOf(t testing.TB, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		name, content := entries[i], entries[i+1]
		h := &tar.Header{Name: name, Mode: 0o644, Uid: 4321, Gid: 4321, ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg, Size: int64(len(content))}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("%v", err)
	}
	return string(b)
}

// catIn is `exec ctr cat p` (the container must run).
func (e *env) catIn(ctr, p string) string {
	e.t.Helper()
	return e.nerdOK("exec", ctr, "cat", p).Stdout
}

// assertNotMounted checks that cp/export/diff of the stopped container id
// left nothing mounted.
func (e *env) assertNotMounted(id string) {
	e.t.Helper()
	if mps, _ := mountsUnder(filepath.Join(e.Root, "containers", id)); len(mps) > 0 {
		e.t.Errorf("mounts left in the directory of a stopped container: %v", mps)
	}
}

func TestCpBothWays(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id := e.runD(withSleeper("--name", "ctr", "busybox")...)
	e.nerdOK("exec", "ctr", "sh", "-c", "mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && ln -s one /data/link")

	src := filepath.Join(e.Dir, "src")
	writeFile(t, filepath.Join(src, "a.txt"), "alpha\n")
	writeFile(t, filepath.Join(src, "sub", "b.txt"), "beta\n")
	if err := os.Chown(filepath.Join(src, "a.txt"), 1234, 1234); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "a.txt"), 0o640); err != nil {
		t.Fatal(err)
	}

	t.Run("to container", func(t *testing.T) {
		e := e.sub(t)
		// A file into an existing directory keeps its name; quiet when
		// stdout is not a terminal.
		if r := e.nerdOK("cp", filepath.Join(src, "a.txt"), "ctr:/tmp"); r.Stdout != "" || r.Stderr != "" {
			t.Errorf("cp printed something without a terminal:\n%s", r)
		}
		if got := e.catIn("ctr", "/tmp/a.txt"); got != "alpha\n" {
			t.Errorf("/tmp/a.txt = %q", got)
		}
		// Owned by root without -a, mode kept.
		if got := e.nerdOK("exec", "ctr", "stat", "-c", "%u:%g %a", "/tmp/a.txt").Stdout; got != "0:0 640\n" {
			t.Errorf("owner and mode without -a: %q, want 0:0 640", got)
		}
		// -a keeps the source's uid/gid.
		e.nerdOK("cp", "-a", filepath.Join(src, "a.txt"), "ctr:/tmp/archived.txt")
		if got := e.nerdOK("exec", "ctr", "stat", "-c", "%u:%g", "/tmp/archived.txt").Stdout; got != "1234:1234\n" {
			t.Errorf("owner with -a: %q, want 1234:1234", got)
		}
		// A new name; a relative source path.
		e.nerdOK("cp", "src/a.txt", "ctr:/tmp/renamed")
		if got := e.catIn("ctr", "/tmp/renamed"); got != "alpha\n" {
			t.Errorf("/tmp/renamed = %q", got)
		}
		// A directory: into an existing one, then as a new one, then its
		// contents (trailing /.) into an existing one.
		e.nerdOK("cp", src, "ctr:/tmp")
		e.nerdOK("cp", src, "ctr:/newdir")
		e.nerdOK("exec", "ctr", "mkdir", "/merged")
		e.nerdOK("cp", src+"/.", "ctr:/merged")
		for _, p := range []string{"/tmp/src/sub/b.txt", "/newdir/sub/b.txt", "/merged/sub/b.txt"} {
			if got := e.catIn("ctr", p); got != "beta\n" {
				t.Errorf("%s = %q", p, got)
			}
		}
		// Over an existing file.
		e.nerdOK("cp", filepath.Join(src, "sub", "b.txt"), "ctr:/tmp/renamed")
		if got := e.catIn("ctr", "/tmp/renamed"); got != "beta\n" {
			t.Errorf("overwritten /tmp/renamed = %q", got)
		}
		// The container alias.
		e.nerdOK("container", "cp", filepath.Join(src, "a.txt"), "ctr:/tmp/alias")
		if got := e.catIn("ctr", "/tmp/alias"); got != "alpha\n" {
			t.Errorf("/tmp/alias = %q", got)
		}
	})

	t.Run("from container", func(t *testing.T) {
		e := e.sub(t)
		out := filepath.Join(e.Dir, "out")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		e.nerdOK("cp", "ctr:/data/one", out)
		e.nerdOK("cp", "ctr:/data/one", filepath.Join(out, "uno"))
		e.nerdOK("cp", "ctr:/data", out)
		e.nerdOK("cp", "ctr:/data", filepath.Join(out, "copy"))
		e.nerdOK("cp", "ctr:/data/.", filepath.Join(out, "copy"))
		for p, want := range map[string]string{"one": "one\n", "uno": "one\n", "data/sub/two": "two\n", "copy/sub/two": "two\n", "copy/one": "one\n"} {
			if got := readFile(t, filepath.Join(out, p)); got != want {
				t.Errorf("%s = %q, want %q", p, got, want)
			}
		}
		if l, err := os.Readlink(filepath.Join(out, "data", "link")); err != nil || l != "one" {
			t.Errorf("symlink copied as %q (%v), want a link to one", l, err)
		}
		// -L copies what the link points to, under the link's name.
		e.nerdOK("cp", "-L", "ctr:/data/link", out)
		if fi, err := os.Lstat(filepath.Join(out, "link")); err != nil || !fi.Mode().IsRegular() || readFile(t, filepath.Join(out, "link")) != "one\n" {
			t.Errorf("cp -L: want a regular file with one's content (%v)", err)
		}
	})

	t.Run("tar streams", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdOK("cp", "ctr:/data", "-")
		hdrs, files := tarList(t, []byte(r.Stdout))
		if h := hdrs["data/"]; h == nil || h.Typeflag != tar.TypeDir {
			t.Errorf("cp ctr:/data - lacks the data/ directory entry: %v", keys(hdrs))
		}
		if files["data/sub/two"] != "two\n" {
			t.Errorf("cp ctr:/data -: data/sub/two = %q (entries %v)", files["data/sub/two"], keys(hdrs))
		}
		if h := hdrs["data/link"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "one" {
			t.Errorf("cp ctr:/data -: data/link should be a symlink to one: %+v", h)
		}
		// From stdin: extracted into an existing directory, owners kept.
		e.nerdOK("exec", "ctr", "mkdir", "/fromtar")
		if r := e.nerdIn(bytes.NewReader(tarOf(t, "x/", "", "x/y.txt", "why\n")), "cp", "-", "ctr:/fromtar"); r.Code != 0 {
			t.Fatalf("cp - ctr:/fromtar:\n%s", r)
		}
		if got := e.catIn("ctr", "/fromtar/x/y.txt"); got != "why\n" {
			t.Errorf("/fromtar/x/y.txt = %q", got)
		}
		if got := e.nerdOK("exec", "ctr", "stat", "-c", "%u", "/fromtar/x/y.txt").Stdout; got != "4321\n" {
			t.Errorf("owner from the archive: %q, want 4321", got)
		}
		r = e.nerdIn(bytes.NewReader(tarOf(t, "f", "x")), "cp", "-", "ctr:/data/one")
		r.wantFailure(t, 1, `destination "ctr:/data/one" must be a directory`)
		// A tar entry climbing out of the destination is refused.
		r = e.nerdIn(bytes.NewReader(tarOf(t, "../../escaped", "x")), "cp", "-", "ctr:/fromtar")
		r.wantFailure(t, 1, `escapes`)
		if rr := e.nerd("exec", "ctr", "ls", "/escaped"); rr.Code == 0 {
			t.Errorf("a ../ entry was extracted to /escaped")
		}
	})

	t.Run("errors", func(t *testing.T) {
		e := e.sub(t)
		e.nerdFail(1, []string{"cp", "ctr:/nonexistent", e.Dir}, `Could not find the file /nonexistent in container ctr`)
		e.nerdFail(1, []string{"cp", filepath.Join(src, "a.txt"), "ctr:/nonexistent/dir/x"}, `Could not find the file /nonexistent/dir in container ctr`)
		e.nerdFail(1, []string{"cp", "ctr:/data/one", filepath.Join(e.Dir, "nodir") + "/"}, `no such directory`)
		e.nerdFail(1, []string{"cp", "ctr:/data/one", filepath.Join(e.Dir, "missing", "x")}, `invalid output path: directory ".*missing" does not exist`)
		e.nerdFail(1, []string{"cp", src, "ctr:/data/one"}, `cannot copy directory`)
		e.nerdFail(1, []string{"cp", "ctr:/a", "ctr:/b"}, `copying between containers is not supported`)
		e.nerdFail(1, []string{"cp", "a", "b"}, `must specify at least one container source`)
		e.nerdFail(1, []string{"cp", "nosuch:/a", e.Dir}, `No such container: nosuch`)
		e.nerdFail(1, []string{"cp", "ctr:/a"}, `requires exactly 2 arguments`)
		e.nerdFail(125, []string{"cp", "--bogus", "ctr:/a", "b"}, `unknown flag`)
		e.runD(withSleeper("--name", "ro", "--read-only", "busybox")...)
		e.nerdFail(1, []string{"cp", filepath.Join(src, "a.txt"), "ro:/tmp"}, `container rootfs is marked read-only`)
	})

	t.Run("stopped", func(t *testing.T) {
		e := e.sub(t)
		e.nerdOK("stop", "-t", "2", "ctr")
		e.nerdOK("cp", filepath.Join(src, "a.txt"), "ctr:/stopped.txt")
		e.assertNotMounted(id)
		out := filepath.Join(e.Dir, "stopped-out")
		e.nerdOK("cp", "ctr:/stopped.txt", out)
		if got := readFile(t, out); got != "alpha\n" {
			t.Errorf("round trip through a stopped container: %q", got)
		}
		r := e.nerdOK("cp", "ctr:/data/sub", "-")
		if _, files := tarList(t, []byte(r.Stdout)); files["sub/two"] != "two\n" {
			t.Errorf("tar of a stopped container's /data/sub: %v", files)
		}
		e.assertNotMounted(id)
		// The change is the container's: it is there when it runs again.
		e.nerdOK("start", "ctr")
		if got := e.catIn("ctr", "/stopped.txt"); got != "alpha\n" {
			t.Errorf("after start: %q", got)
		}
	})
}

func keys[M ~map[string]V, V any](m M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A container's symlinks resolve inside the container, whatever they
// point to and whether it runs or not: cp never reads or writes the host
// through them.
func TestCpSymlinkEscape(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	secret := filepath.Join(e.Dir, "host-secret")
	writeFile(t, secret, "HOST\n")
	plant := "ln -s / /escape; ln -s ../../../../../../../../.. /rel; ln -s /etc /etclink; " +
		"mkdir -p /d; ln -s " + secret + " /d/abs; echo CONTAINER > /etc/marker"
	id := e.runD("--name", "ctr", "busybox", "sh", "-c", plant+"; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done")
	eventually(t, 10*time.Second, "the symlinks planted", func() (bool, string) {
		r := e.nerd("exec", "ctr", "cat", "/etc/marker")
		return r.Stdout == "CONTAINER\n", r.String()
	})
	hostFile := "escaped-" + filepath.Base(e.Dir)
	check := func(t *testing.T, e *env, sfx string) {
		// Reads: the host's file is not found, the container's is.
		e.nerdFail(1, []string{"cp", "ctr:/escape" + secret, filepath.Join(e.Dir, "got1"+sfx)}, `Could not find the file`)
		e.nerdFail(1, []string{"cp", "ctr:/rel" + secret, filepath.Join(e.Dir, "got2"+sfx)}, `Could not find the file`)
		e.nerdOK("cp", "ctr:/rel/etc/marker", filepath.Join(e.Dir, "marker"+sfx))
		if got := readFile(t, filepath.Join(e.Dir, "marker"+sfx)); got != "CONTAINER\n" {
			t.Errorf("/rel/etc/marker = %q, want the container's file", got)
		}
		// -L on a link to a host path finds nothing on the host.
		e.nerdFail(1, []string{"cp", "-L", "ctr:/d/abs", filepath.Join(e.Dir, "got3"+sfx)}, `Could not find the file`)
		// Without -L the link is copied as a link.
		e.nerdOK("cp", "ctr:/d/abs", filepath.Join(e.Dir, "abslink"+sfx))
		if l, err := os.Readlink(filepath.Join(e.Dir, "abslink"+sfx)); err != nil || l != secret {
			t.Errorf("link copied as %q (%v)", l, err)
		}
		// Writes through the links land in the container.
		e.nerdOK("cp", secret, "ctr:/escape/tmp/"+hostFile)
		e.nerdOK("cp", secret, "ctr:/rel/tmp/"+hostFile+"-rel")
		e.nerdOK("cp", secret, "ctr:/etclink/")
		for _, p := range []string{"/tmp/" + hostFile, "/tmp/" + hostFile + "-rel"} {
			if exists(p) {
				t.Errorf("cp through a container symlink wrote the host's %s", p)
				os.Remove(p)
			}
		}
		if exists("/etc/host-secret") {
			t.Errorf("cp through /etclink wrote the host's /etc")
			os.Remove("/etc/host-secret")
		}
		// Into the directory of the host path that /d/abs names: it
		// exists on the host, not in the container.
		e.nerdFail(1, []string{"cp", secret, "ctr:/escape" + e.Dir + "/new"}, `Could not find the file`)
		if exists(filepath.Join(e.Dir, "new")) {
			t.Errorf("cp wrote into the host's %s", e.Dir)
		}
		if got := readFile(t, secret); got != "HOST\n" {
			t.Errorf("the host file changed: %q", got)
		}
	}
	t.Run("running", func(t *testing.T) {
		e := e.sub(t)
		check(t, e, "-running")
		for _, p := range []string{"/tmp/" + hostFile, "/tmp/" + hostFile + "-rel", "/etc/host-secret"} {
			if got := e.catIn("ctr", p); got != "HOST\n" {
				t.Errorf("%s in the container = %q", p, got)
			}
		}
	})
	t.Run("stopped", func(t *testing.T) {
		e := e.sub(t)
		e.nerdOK("stop", "ctr")
		check(t, e, "-stopped")
		e.assertNotMounted(id)
	})
}

func TestDiff(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	script := "echo x > /tmp/new; echo y >> /etc/passwd; rm /etc/group; mkdir -p /var/newdir/sub; touch /var/newdir/sub/f; " +
		"rm -rf /root; mkdir /root; touch /root/z; ln -s /tmp/new /bin/newlink"
	want := []string{
		"C /bin", "A /bin/newlink",
		"C /etc", "D /etc/group", "C /etc/passwd",
		"C /root", "A /root/z",
		"C /tmp", "A /tmp/new",
		"C /var", "A /var/newdir", "A /var/newdir/sub", "A /var/newdir/sub/f",
	}
	id := e.runD("--name", "dd", "busybox", "sh", "-c", script+"; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done")
	eventually(t, 10*time.Second, "the script done", func() (bool, string) {
		r := e.nerd("exec", "dd", "ls", "/bin/newlink")
		return r.Code == 0, r.String()
	})
	if got := e.nerdOK("diff", "dd").Lines(); !slices.Equal(got, want) {
		t.Errorf("diff of the running container:\n got %q\nwant %q", got, want)
	}
	e.nerdOK("stop", "dd")
	if got := e.nerdOK("container", "diff", "dd").Lines(); !slices.Equal(got, want) {
		t.Errorf("diff of the stopped container:\n got %q\nwant %q", got, want)
	}
	// A container that changed nothing has no diff (the runtime's mount
	// points do not count).
	e.nerdOK("run", "--name", "clean", "busybox", "true")
	if r := e.nerdOK("diff", "clean"); r.Stdout != "" {
		t.Errorf("diff of an unchanged container:\n%s", r)
	}
	e.assertNotMounted(id)
	e.nerdFail(1, []string{"diff", "nosuch"}, `No such container: nosuch`)
	e.nerdFail(1, []string{"diff"}, `requires exactly 1 argument`)
}

func TestExport(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("run", "--name", "ex", "busybox", "sh", "-c", "echo exported > /tmp/new; rm /etc/group")
	id := strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.Id}}", "ex").Stdout)
	out := filepath.Join(e.Dir, "ex.tar")
	if r := e.nerdOK("export", "-o", out, "ex"); r.Stdout != "" {
		t.Errorf("export -o printed on stdout:\n%s", r)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	hdrs, files := tarList(t, data)
	if h := hdrs["bin/busybox"]; h == nil || h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
		t.Errorf("export lacks an executable bin/busybox: %+v", h)
	}
	if files["tmp/new"] != "exported\n" {
		t.Errorf("tmp/new = %q", files["tmp/new"])
	}
	if files["etc/passwd"] == "" {
		t.Errorf("export lacks etc/passwd")
	}
	if _, ok := hdrs["etc/group"]; ok {
		t.Errorf("export has the deleted etc/group")
	}
	if h := hdrs["tmp/"]; h == nil || h.Mode&0o7777 != 0o1777 {
		t.Errorf("tmp/ should keep mode 1777: %+v", h)
	}
	for name := range hdrs {
		if strings.HasPrefix(name, "./") || strings.HasPrefix(name, "/") {
			t.Errorf("entry %q: Docker's export names are relative, without ./", name)
			break
		}
	}
	// To stdout (not a terminal), the same archive.
	r := e.nerdOK("container", "export", "ex")
	hdrs2, _ := tarList(t, []byte(r.Stdout))
	if !slices.Equal(keys(hdrs), keys(hdrs2)) {
		t.Errorf("export to stdout and -o differ")
	}
	e.assertNotMounted(id)
	e.nerdFail(1, []string{"export", "-o", filepath.Join(e.Dir, "missing", "x.tar"), "ex"}, `failed to export container: invalid output path: directory ".*missing" does not exist`)
	e.nerdFail(1, []string{"export", "nosuch"}, `No such container: nosuch`)
	if exists(filepath.Join(e.Dir, "missing")) {
		t.Errorf("a failed export created its directory")
	}
	// A running container exports its live filesystem.
	e.runD(withSleeper("--name", "live", "busybox")...)
	e.nerdOK("exec", "live", "sh", "-c", "echo live > /live.txt")
	if _, files := tarList(t, []byte(e.nerdOK("export", "live").Stdout)); files["live.txt"] != "live\n" {
		t.Errorf("export of a running container lacks live.txt")
	}
}

// imageInspect is the part of `image inspect` the commit test reads.
type commitInspect struct {
	ID      string `json:"Id"`
	Author  string `json:"Author"`
	Comment string `json:"Comment"`
	Config  struct {
		Cmd          []string            `json:"Cmd"`
		Entrypoint   []string            `json:"Entrypoint"`
		Env          []string            `json:"Env"`
		Labels       map[string]string   `json:"Labels"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		WorkingDir   string              `json:"WorkingDir"`
		User         string              `json:"User"`
		Volumes      map[string]struct{} `json:"Volumes"`
		StopSignal   string              `json:"StopSignal"`
	} `json:"Config"`
	RootFS struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

func (e *env) inspectImage(ref string) commitInspect {
	e.t.Helper()
	r := e.nerdOK("image", "inspect", ref)
	var out []commitInspect
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("image inspect %s (%v):\n%s", ref, err, r)
	}
	return out[0]
}

func TestCommit(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("run", "--name", "src", "busybox", "sh", "-c", "echo added > /file-added; rm /etc/group; mkdir /newdir; chmod 700 /newdir")

	r := e.nerdOK("commit", "-m", "a message", "-a", "Nerd Tester <t@example.com>", "src", "committed:v1")
	id := strings.TrimSpace(r.Stdout)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("commit printed %q, want sha256:<id>", r.Stdout)
	}
	if got := e.nerdOK("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "committed").Stdout; got != "committed:v1 "+id[7:19]+"\n" {
		t.Errorf("images committed: %q", got)
	}
	got := e.inspectImage("committed:v1")
	if got.ID != id || got.Comment != "a message" || got.Author != "Nerd Tester <t@example.com>" {
		t.Errorf("inspect: Id %q Comment %q Author %q", got.ID, got.Comment, got.Author)
	}
	if len(got.RootFS.Layers) != len(busybox.DiffIDs)+1 {
		t.Errorf("committed image has %d layers, want busybox's %d + 1", len(got.RootFS.Layers), len(busybox.DiffIDs))
	}
	// Docker keeps the container's command as the image's.
	if want := []string{"sh", "-c", "echo added > /file-added; rm /etc/group; mkdir /newdir; chmod 700 /newdir"}; !slices.Equal(got.Config.Cmd, want) {
		t.Errorf("Config.Cmd %q, want the container's %q", got.Config.Cmd, want)
	}
	// The image runs and has the changes: the file, the deletion, the mode.
	if r := e.nerdOK("run", "--rm", "committed:v1", "cat", "/file-added"); r.Stdout != "added\n" {
		t.Errorf("run committed:v1 cat /file-added:\n%s", r)
	}
	if r := e.nerdOK("run", "--rm", "committed:v1", "sh", "-c", "ls /etc; stat -c %a /newdir /tmp"); r.Stdout != "hostname\nhosts\npasswd\nresolv.conf\n700\n1777\n" {
		t.Errorf("committed image's /etc and modes:\n%s", r)
	}
	if r := e.nerdOK("history", "--format", "{{.CreatedBy}}", "committed:v1"); !strings.HasPrefix(r.Stdout, "sh -c echo added") {
		t.Errorf("history's top entry:\n%s", r)
	}

	t.Run("change", func(t *testing.T) {
		e := e.sub(t)
		e.nerdOK("commit",
			"-c", `CMD ["cat", "/file-added"]`,
			"-c", "ENV GREETING=hello OTHER=$GREETING-x",
			"-c", "ENV THIRD=${GREETING}-y",
			"-c", "LABEL com.example.k=v",
			"-c", "EXPOSE 8080 53/udp",
			"-c", "WORKDIR /newdir",
			"-c", "USER nobody",
			"-c", "VOLUME /data",
			"-c", "STOPSIGNAL SIGINT",
			"src", "committed:cmd")
		if r := e.nerdOK("run", "--rm", "--user", "root", "committed:cmd"); r.Stdout != "added\n" {
			t.Errorf("run of the image committed with CMD:\n%s", r)
		}
		got := e.inspectImage("committed:cmd")
		c := got.Config
		if !slices.Equal(c.Cmd, []string{"cat", "/file-added"}) || c.WorkingDir != "/newdir" || c.User != "nobody" || c.StopSignal != "SIGINT" {
			t.Errorf("config after changes: %+v", c)
		}
		// As in a Dockerfile, an ENV sees the variables of the ones before
		// it, not its own.
		if !slices.Contains(c.Env, "GREETING=hello") || !slices.Contains(c.Env, "OTHER=-x") || !slices.Contains(c.Env, "THIRD=hello-y") {
			t.Errorf("Env %q", c.Env)
		}
		if c.Labels["com.example.k"] != "v" {
			t.Errorf("Labels %v", c.Labels)
		}
		if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
			t.Errorf("ExposedPorts %v", c.ExposedPorts)
		}
		if _, ok := c.ExposedPorts["53/udp"]; !ok {
			t.Errorf("ExposedPorts %v", c.ExposedPorts)
		}
		if _, ok := c.Volumes["/data"]; !ok {
			t.Errorf("Volumes %v", c.Volumes)
		}
		// Shell form.
		e.nerdOK("commit", "-c", "CMD echo $HOME from shell", "src", "committed:shell")
		if r := e.nerdOK("run", "--rm", "committed:shell"); r.Stdout != "/root from shell\n" {
			t.Errorf("shell-form CMD:\n%s", r)
		}
		e.nerdFail(1, []string{"commit", "-c", "RUN true", "src"}, `run is not a valid change command`)
	})

	t.Run("opaque directory", func(t *testing.T) {
		e := e.sub(t)
		// A directory removed and made again hides the image's contents.
		// (/bin: /etc holds the hosts, hostname and resolv.conf mounts,
		// which cannot be removed, as in Docker.)
		e.nerdOK("run", "--name", "op", "busybox", "sh", "-c", "cp /bin/busybox /busybox && /busybox rm -rf /bin && /busybox mkdir /bin && /busybox touch /bin/only")
		e.nerdOK("commit", "op", "committed:opaque")
		if r := e.nerdOK("run", "--rm", "committed:opaque", "/busybox", "ls", "-A", "/bin"); r.Stdout != "only\n" {
			t.Errorf("/bin of the committed image:\n%s", r)
		}
	})

	t.Run("dangling and running", func(t *testing.T) {
		e := e.sub(t)
		// No name: a <none> image.
		r := e.nerdOK("commit", "src")
		id := strings.TrimSpace(r.Stdout)
		if got := e.nerdOK("images", "--filter", "dangling=true", "--format", "{{.ID}}").Lines(); !slices.Contains(got, id[7:19]) {
			t.Errorf("dangling images %q lack the unnamed commit %s", got, id)
		}
		// A running container is paused while committed, then runs on.
		e.runD(withSleeper("--name", "live", "busybox")...)
		e.nerdOK("exec", "live", "sh", "-c", "echo live > /live.txt")
		e.nerdOK("commit", "live", "committed:live")
		if s := e.status("live"); s != "running" {
			t.Errorf("after commit the container is %q, want running", s)
		}
		if r := e.nerdOK("run", "--rm", "committed:live", "cat", "/live.txt"); r.Stdout != "live\n" {
			t.Errorf("run committed:live:\n%s", r)
		}
		e.nerdOK("commit", "--pause=false", "live", "committed:nopause")
	})

	t.Run("errors", func(t *testing.T) {
		e := e.sub(t)
		e.nerdFail(1, []string{"commit", "nosuch"}, `No such container: nosuch`)
		e.nerdFail(1, []string{"commit", "src", "Bad:Ref:x"}, `invalid reference format`)
		e.nerdFail(1, []string{"commit"}, `requires at least 1 argument`)
		e.nerdFail(1, []string{"commit", "src", "a", "b"}, `requires at most 2 argument`)
	})
}

func TestStats(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id := e.runD(withSleeper("--name", "st", "--memory", "64m", "busybox")...)
	e.nerdOK("create", "--name", "notrunning", "busybox")

	r := e.nerdOK("stats", "--no-stream")
	header, rows := psTable(t, r.Stdout)
	wantHeader := []string{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"}
	if !slices.Equal(header, wantHeader) {
		t.Fatalf("stats header %q, want %q:\n%s", header, wantHeader, r)
	}
	if len(rows) != 1 {
		t.Fatalf("stats --no-stream: want one row (the running container):\n%s", r)
	}
	row := rows[0]
	if row["CONTAINER ID"] != id[:12] || row["NAME"] != "st" {
		t.Errorf("row %v", row)
	}
	if !regexp.MustCompile(`^\d+\.\d\d%$`).MatchString(row["CPU %"]) || !regexp.MustCompile(`^\d+\.\d\d%$`).MatchString(row["MEM %"]) {
		t.Errorf("CPU %% %q MEM %% %q", row["CPU %"], row["MEM %"])
	}
	if !regexp.MustCompile(`^[\d.]+(B|KiB|MiB) / 64MiB$`).MatchString(row["MEM USAGE / LIMIT"]) {
		t.Errorf("MEM USAGE / LIMIT %q, want usage / 64MiB", row["MEM USAGE / LIMIT"])
	}
	if row["NET I/O"] != "0B / 0B" || !regexp.MustCompile(`^\S+ / \S+$`).MatchString(row["BLOCK I/O"]) {
		t.Errorf("NET I/O %q BLOCK I/O %q", row["NET I/O"], row["BLOCK I/O"])
	}
	if row["PIDS"] == "" || row["PIDS"] == "0" {
		t.Errorf("PIDS %q", row["PIDS"])
	}

	// -a adds the container that does not run, with zeros.
	_, rows = psTable(t, e.nerdOK("stats", "--no-stream", "-a").Stdout)
	var names []string
	for _, row := range rows {
		names = append(names, row["NAME"])
		if row["NAME"] == "notrunning" && (row["CPU %"] != "0.00%" || row["MEM USAGE / LIMIT"] != "0B / 0B" || row["PIDS"] != "0") {
			t.Errorf("row of a container that does not run: %v", row)
		}
	}
	if !slices.Contains(names, "st") || !slices.Contains(names, "notrunning") {
		t.Errorf("stats -a names %q", names)
	}

	// Named, with a format; json.
	if got := e.nerdOK("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", "st").Stdout; !regexp.MustCompile(`^st \S+ / 64MiB\n$`).MatchString(got) {
		t.Errorf("stats --format: %q", got)
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(e.nerdOK("container", "stats", "--no-stream", "--format", "json", "st").Stdout), &js); err != nil || js["Name"] != "st" || js["ID"] != id[:12] {
		t.Errorf("stats --format json: %v %v", js, err)
	}
	e.nerdFail(1, []string{"stats", "--no-stream", "nosuch"}, `No such container: nosuch`)

	// Without --no-stream it refreshes every second until interrupted.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := e.command(ctx, "stats", "st")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "CONTAINER ID"); n < 2 {
		t.Errorf("stats streamed %d tables in 3.5s, want at least 2:\n%s", n, out.String())
	}
}

func TestPort(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "pt", "busybox")...)
	if r := e.nerdOK("port", "pt"); r.Stdout != "" {
		t.Errorf("port of a container without published ports:\n%s", r)
	}
	e.nerdFail(1, []string{"port", "pt", "80/tcp"}, `^Error: No public port '80/tcp' published for pt\n$`)
	e.nerdFail(1, []string{"container", "port", "pt", "80"}, `No public port '80' published for pt`)
	e.nerdFail(1, []string{"port", "pt", "http"}, `invalid port \(http\)`)
	e.nerdFail(1, []string{"port", "nosuch"}, `No such container: nosuch`)
}
