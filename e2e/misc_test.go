package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.nerdOK("version")
	if !matchCI(`version`, r.Stdout) || !strings.Contains(r.Stdout, "go1.") {
		t.Errorf("version output lacks a version and the Go version:\n%s", r)
	}
	if r := e.nerdOK("--version"); !matchCI(`version`, r.Stdout) {
		t.Errorf("--version:\n%s", r)
	}
	if out := e.nerdOK("version", "--format", "{{json .}}").Stdout; !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("version --format '{{json .}}': %q", out)
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	r := e.nerdOK("info")
	if !strings.Contains(r.Stdout, e.Root) {
		t.Errorf("info does not mention the data root %s:\n%s", e.Root, r.Stdout)
	}
	if !matchCI(`Images:\s*1\b`, r.Stdout) {
		t.Errorf("info does not say Images: 1:\n%s", r.Stdout)
	}
	for _, want := range []string{`Storage Driver|Snapshotter`, `Cgroup Version`, `Kernel Version`} {
		if !matchCI(want, r.Stdout) {
			t.Errorf("info lacks %s:\n%s", want, r.Stdout)
		}
	}
	e.pullOK("nginx")
	if r := e.nerdOK("info"); !matchCI(`Images:\s*2\b`, r.Stdout) {
		t.Errorf("info after a second pull does not say Images: 2:\n%s", r.Stdout)
	}
	if out := e.nerdOK("info", "--format", "{{.Images}}").Stdout; out != "2\n" {
		t.Errorf("info --format {{.Images}}: %q", out)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.nerdOK("completion", "bash")
	if len(r.Stdout) < 200 || !strings.Contains(r.Stdout, "complete") {
		t.Errorf("completion bash: %d bytes", len(r.Stdout))
	}
	for _, sh := range []string{"zsh", "fish"} {
		if r := e.nerdOK("completion", sh); len(r.Stdout) < 200 {
			t.Errorf("completion %s: %d bytes", sh, len(r.Stdout))
		}
	}
	// The script is valid bash.
	f := filepath.Join(e.Dir, "completion.bash")
	if err := os.WriteFile(f, []byte(r.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if s := e.run(nil, "/bin/bash", "-n", f); s.Code != 0 {
		t.Errorf("bash -n on the completion script:\n%s", s)
	}
}

// Invoked through a link named docker, nerd is the same tool.
func TestDockerSymlink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bin := filepath.Join(e.Dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(bin, "docker")
	if err := os.Symlink(nerdBin, docker); err != nil {
		t.Fatal(err)
	}
	if r := e.run(nil, docker, "pull", "busybox"); r.Code != 0 {
		t.Fatalf("docker pull busybox:\n%s", r)
	}
	r := e.run(nil, docker, "images")
	if r.Code != 0 {
		t.Fatalf("docker images:\n%s", r)
	}
	_, rows := parseTable(t, r.Stdout)
	if row := findRow(rows, "busybox", "latest"); row == nil || row["IMAGE ID"] != busybox.ShortID() {
		t.Errorf("docker images: %v", rows)
	}
	// Found through PATH, as a user runs it.
	e.ExtraEnv = append(e.ExtraEnv, "PATH="+bin+":"+os.Getenv("PATH"))
	if r := e.run(nil, "/bin/sh", "-c", "docker image inspect -f '{{.Id}}' busybox"); r.Code != 0 || r.Stdout != busybox.ID+"\n" {
		t.Errorf("docker via PATH:\n%s", r)
	}
	if r := e.run(nil, docker, "images", "--bogus"); r.Code != 125 {
		t.Errorf("docker images --bogus: want exit 125\n%s", r)
	}
}

func TestBadFlagsAndCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{
		{"images", "--bogus"},
		{"--bogus", "images"},
		{"image", "ls", "--bogus"},
		{"rmi", "-x", "busybox"},
		{"save", "--bogus", "busybox"},
		{"login", "--bogus"},
		{"version", "--bogus"},
	} {
		e.nerdFail(125, args, `unknown (shorthand )?flag`)
	}
	// Docker 28: "docker: unknown command: docker no-such-command", exit 1.
	e.nerdFail(1, []string{"no-such-command"}, `no-such-command`)
	if r := e.nerd("--help"); r.Code != 0 || !strings.Contains(r.Stdout, "pull") {
		t.Errorf("--help:\n%s", r)
	}
	if r := e.nerd("pull", "--help"); r.Code != 0 || !strings.Contains(r.Stdout, "--platform") {
		t.Errorf("pull --help:\n%s", r)
	}
}

// The global flags override the config file.
func TestGlobalDataRootFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := filepath.Join(e.Dir, "other-root")
	t.Cleanup(func() {
		if err := safeRemoveAll(runtimeDirFor(other)); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	e.nerdOK("--data-root", other, "pull", "busybox")
	if !exists(filepath.Join(other, "content", "index.json")) || !exists(filepath.Join(other, "content", "oci-layout")) {
		t.Errorf("--data-root %s has no OCI layout in content/", other)
	}
	if got := e.nerdOK("--data-root", other, "images", "-q").Lines(); len(got) != 1 || got[0] != busybox.ShortID() {
		t.Errorf("images in --data-root: %v", got)
	}
	if ids := e.imageIDs(); len(ids) != 0 {
		t.Errorf("the config's data root got images: %v", ids)
	}
}

func TestGlobalHostsDirFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Without a mirror, docker.io is unreachable here.
	e.HostsDir = filepath.Join(e.Dir, "empty-hosts")
	if err := os.MkdirAll(e.HostsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.writeConfig()
	e.nerdFail(1, []string{"pull", "busybox"})
	e.nerdOK("--hosts-dir", mirrorHostsDir, "pull", "busybox")
	if got := e.inspect("busybox").Id; got != busybox.ID {
		t.Errorf("Id %s", got)
	}
}

func TestBrokenConfigFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := os.WriteFile(e.ConfigFile, []byte("data_root = [unterminated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.nerd("images")
	if r.Code == 0 || !strings.Contains(r.Stderr, e.ConfigFile) || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 2 {
		t.Errorf("broken config: want a short error naming the file:\n%s", r)
	}
}

// The content store is an OCI image layout other tools can read.
func TestContentIsOCILayout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("nginx")
	p, err := layout.FromPath(filepath.Join(e.Root, "content"))
	if err != nil {
		t.Fatal(err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatalf("content/index.json: %v", err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, d := range im.Manifests {
		if d.Digest.String() != nginx.Digest {
			continue
		}
		found = true
		if !strings.Contains(fmt.Sprint(d.Annotations), "nginx") {
			t.Errorf("nginx's descriptor carries no name annotation: %v", d.Annotations)
		}
		img, err := ii.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 2 {
			t.Fatalf("layers: %v %d", err, len(layers))
		}
		for i, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatalf("layer %d blob: %v", i, err)
			}
			h, _, err := v1.SHA256(rc)
			rc.Close()
			if err != nil || h.String() != nginx.Layers[i] {
				t.Errorf("layer %d blob hashes to %v (%v), want %s", i, h, err, nginx.Layers[i])
			}
		}
	}
	if !found {
		t.Errorf("content/index.json has no descriptor for nginx's manifest %s: %+v", nginx.Digest, im.Manifests)
	}
}
