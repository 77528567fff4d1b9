package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// archiveManifest reads manifest.json (docker-archive) from a tar.
func archiveManifest(t *testing.T, data []byte) []struct {
	Config           string
	RepoTags, Layers []string
} {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("save output is not a tar: %v", err)
		}
		names = append(names, h.Name)
		if h.Name == "manifest.json" {
			var m []struct {
				Config           string
				RepoTags, Layers []string
			}
			b, _ := io.ReadAll(tr)
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("manifest.json: %v\n%s", err, b)
			}
			return m
		}
	}
	t.Fatalf("no manifest.json in the archive (Docker's format): %v", names)
	return nil
}

func TestSaveLoadFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	f := filepath.Join(e.Dir, "busybox.tar")
	r := e.nerdOK("save", "-o", f, "busybox")
	if r.Stdout != "" {
		t.Errorf("save -o printed to stdout: %q", r.Stdout)
	}
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m := archiveManifest(t, data)
	if len(m) != 1 || !slices.Equal(m[0].RepoTags, []string{"busybox:latest"}) || len(m[0].Layers) != 1 {
		t.Errorf("manifest.json %+v", m)
	}

	e2 := newEnv(t)
	r = e2.nerdOK("load", "-i", f)
	if r.Stdout != "Loaded image: busybox:latest\n" {
		t.Errorf("load stdout %q, want \"Loaded image: busybox:latest\"", r.Stdout)
	}
	if got := e2.inspect("busybox"); got.Id != busybox.ID || !slices.Equal(got.RepoTags, []string{"busybox:latest"}) {
		t.Errorf("loaded image: Id %s RepoTags %v", got.Id, got.RepoTags)
	}
	if s := e2.committedSnapshots(); len(s) != 1 {
		t.Errorf("want 1 committed snapshot after load, have %v", s)
	}
	// Loading again is fine and changes nothing.
	e2.nerdOK("load", "--input", f)
	if ids := e2.imageIDs(); !sameSet(ids, []string{busybox.ID}) {
		t.Errorf("images after second load: %v", ids)
	}
}

func TestSaveLoadStdio(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	e.pullOK("nginx")
	r := e.nerdOK("save", "busybox", "nginx")
	m := archiveManifest(t, []byte(r.Stdout))
	var tags []string
	for _, x := range m {
		tags = append(tags, x.RepoTags...)
	}
	if !sameSet(tags, []string{"busybox:latest", "nginx:latest"}) {
		t.Errorf("archive tags %v", tags)
	}
	e2 := newEnv(t)
	r = e2.nerdIn(strings.NewReader(r.Stdout), "load")
	r.wantStdout(t, "Loaded image: busybox:latest\n", "Loaded image: nginx:latest\n")
	if got := e2.inspect("nginx"); got.Id != nginx.ID || !slices.Equal(got.RootFS.Layers, nginx.DiffIDs) {
		t.Errorf("loaded nginx: %s %v", got.Id, got.RootFS.Layers)
	}
	if got := e2.inspect("busybox").Id; got != busybox.ID {
		t.Errorf("loaded busybox: %s", got)
	}
	if s := e2.committedSnapshots(); len(s) != 3 {
		t.Errorf("want 3 committed snapshots, have %v", s)
	}
}

// An image saved by ID loads untagged, as Docker does.
func TestSaveByID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	f := filepath.Join(e.Dir, "by-id.tar")
	e.nerdOK("save", "-o", f, busybox.ShortID())
	e2 := newEnv(t)
	r := e2.nerdOK("load", "-i", f)
	if r.Stdout != "Loaded image ID: "+busybox.ID+"\n" {
		t.Errorf("load stdout %q, want \"Loaded image ID: %s\"", r.Stdout, busybox.ID)
	}
	if ids := e2.imageIDs(); !sameSet(ids, []string{busybox.ID}) {
		t.Errorf("images: %v", ids)
	}
}

// Archives written by another tool: skopeo's docker-archive and oci-archive.
func TestLoadSkopeoArchives(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/skopeo"); err != nil {
		t.Skip("skopeo not installed")
	}
	for _, kind := range []string{"docker-archive", "oci-archive"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			f := filepath.Join(e.Dir, kind+".tar")
			s := e.run(nil, "/usr/bin/skopeo", "--insecure-policy", "copy", "--src-tls-verify=false",
				"docker://"+reg.ref("library/busybox:latest"), kind+":"+f+":busybox:latest")
			if s.Code != 0 {
				t.Fatalf("skopeo failed:\n%s", s)
			}
			r := e.nerdOK("load", "-i", f)
			r.wantStdout(t, "Loaded image")
			if kind == "docker-archive" && r.Stdout != "Loaded image: busybox:latest\n" {
				t.Errorf("load stdout %q", r.Stdout)
			}
			if ids := e.imageIDs(); !sameSet(ids, []string{busybox.ID}) {
				t.Errorf("images after load: %v, want [%s]", ids, busybox.ID)
			}
			if kind == "docker-archive" {
				if got := e.inspect("busybox").Id; got != busybox.ID {
					t.Errorf("busybox Id %s", got)
				}
			}
		})
	}
}

// Files that are not image archives: an error, and nothing changed.
func TestLoadNotAnArchive(t *testing.T) {
	t.Parallel()
	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)
	cases := map[string][]byte{
		"random bytes":       random,
		"empty file":         {},
		"gzip of random":     gzipBytes(random),
		"tar without image":  tarBytes(tFile("hello.txt", "hello\n", 0o644)),
		"manifest.json lies": tarBytes(tFile("manifest.json", `[{"Config":"c.json","RepoTags":["x:y"],"Layers":["l.tar"]}]`, 0o644)),
		"escaping layer path": tarBytes(tFile("manifest.json",
			`[{"Config":"c.json","RepoTags":["x:y"],"Layers":["../../../../../../etc/passwd"]}]`, 0o644), tFile("c.json", "{}", 0o644)),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			f := filepath.Join(e.Dir, "input")
			if err := os.WriteFile(f, data, 0o644); err != nil {
				t.Fatal(err)
			}
			e.nerdFail(1, []string{"load", "-i", f})
			e.nerdIn(bytes.NewReader(data), "load").wantFailure(t, 1)
			e.assertEmptyStore()
		})
	}
}

func TestSaveLoadErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"load", "-i", filepath.Join(e.Dir, "no-such-file.tar")}, `no such file`)
	e.nerdFail(1, []string{"save", "-o", filepath.Join(e.Dir, "x.tar"), "no-such-image"}, `no such image|not found|does not exist`)
	if exists(filepath.Join(e.Dir, "x.tar")) {
		t.Error("failed save left its output file")
	}
	e.nerdFail(1, []string{"save"}, `requires at least 1 argument`)
	e.nerdFail(125, []string{"load", "--bogus"}, `unknown flag`)
	e.assertEmptyStore()
}
