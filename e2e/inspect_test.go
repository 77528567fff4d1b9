package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestImageInspect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("nginx")
	e.pullOK("busybox")

	got := e.inspect("nginx")
	if got.Id != nginx.ID {
		t.Errorf("Id %s, want %s", got.Id, nginx.ID)
	}
	if !slices.Equal(got.RepoTags, []string{"nginx:latest"}) {
		t.Errorf("RepoTags %v", got.RepoTags)
	}
	if !slices.Equal(got.RepoDigests, []string{"nginx@" + nginx.Digest}) {
		t.Errorf("RepoDigests %v, want [nginx@%s]", got.RepoDigests, nginx.Digest)
	}
	created, err := time.Parse(time.RFC3339Nano, got.Created)
	if err != nil || !created.Equal(nginx.Config.Created.Time) {
		t.Errorf("Created %q (%v), want %v", got.Created, err, nginx.Config.Created.Time)
	}
	if got.Architecture != "amd64" || got.Os != "linux" {
		t.Errorf("platform %s/%s", got.Os, got.Architecture)
	}
	if !slices.Equal(got.Config.Cmd, []string{"nginx", "-g", "daemon off;"}) {
		t.Errorf("Config.Cmd %q", got.Config.Cmd)
	}
	if !slices.Contains(got.Config.Env, defaultPath) {
		t.Errorf("Config.Env %q", got.Config.Env)
	}
	if _, ok := got.Config.ExposedPorts["80/tcp"]; !ok || len(got.Config.ExposedPorts) != 1 {
		t.Errorf("Config.ExposedPorts %v", got.Config.ExposedPorts)
	}
	if got.Config.Labels["maintainer"] != "nerd e2e" || got.Config.StopSignal != "SIGQUIT" {
		t.Errorf("Config.Labels %v StopSignal %q", got.Config.Labels, got.Config.StopSignal)
	}
	if got.Size <= 0 {
		t.Errorf("Size %d", got.Size)
	}
	if got.RootFS.Type != "layers" || !slices.Equal(got.RootFS.Layers, nginx.DiffIDs) {
		t.Errorf("RootFS %+v, want layers %v", got.RootFS, nginx.DiffIDs)
	}

	// The same image by every name Docker accepts.
	for _, ref := range []string{"nginx:latest", "docker.io/library/nginx:latest", "library/nginx", nginx.ID,
		strings.TrimPrefix(nginx.ID, "sha256:"), nginx.ShortID(), "nginx@" + nginx.Digest} {
		if id := e.nerdOK("image", "inspect", "-f", "{{.Id}}", ref).Stdout; id != nginx.ID+"\n" {
			t.Errorf("image inspect -f {{.Id}} %s: %q, want %s", ref, id, nginx.ID)
		}
	}
	// `inspect` (the object command) finds images too.
	if id := e.nerdOK("inspect", "-f", "{{.Id}}", "nginx").Stdout; id != nginx.ID+"\n" {
		t.Errorf("inspect -f {{.Id}} nginx: %q", id)
	}
	if out := e.nerdOK("image", "inspect", "--format", "{{json .Config.Cmd}}", "nginx").Stdout; out != `["nginx","-g","daemon off;"]`+"\n" {
		t.Errorf("{{json .Config.Cmd}}: %q", out)
	}
	if out := e.nerdOK("image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", "busybox").Stdout; out != "linux/amd64\n" {
		t.Errorf("{{.Os}}/{{.Architecture}}: %q", out)
	}

	// Several images: one JSON array, in argument order.
	r := e.nerdOK("image", "inspect", "busybox", "nginx")
	var two []imageInspect
	if err := json.Unmarshal([]byte(r.Stdout), &two); err != nil || len(two) != 2 || two[0].Id != busybox.ID || two[1].Id != nginx.ID {
		t.Errorf("inspect busybox nginx: %v\n%s", err, r)
	}
}

func TestImageInspectMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"image", "inspect", "no-such-image"}, `no such image`)
	e.nerdFail(1, []string{"inspect", "no-such-image"}, `no such object|no such image`)
	e.nerdFail(1, []string{"image", "inspect"}, `requires at least 1 argument`)
	e.nerdFail(1, []string{"image", "inspect", "UPPER"}, `no such image|invalid reference format`)

	// Found ones are printed, the missing one is an error, exit 1 (Docker).
	e.pullOK("busybox")
	r := e.nerd("image", "inspect", "busybox", "no-such-image")
	r.wantFailure(t, 1, `no such image: no-such-image`)
	var got []imageInspect
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || len(got) != 1 || got[0].Id != busybox.ID {
		t.Errorf("partial inspect output: %v\n%s", err, r)
	}
}

func TestImageHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("nginx")
	r := e.nerdOK("image", "history", "nginx")
	header, rows := parseTable(t, r.Stdout)
	if !slices.Equal(header, []string{"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}) {
		t.Errorf("header %q", header)
	}
	if len(rows) != len(nginx.Config.History) {
		t.Fatalf("want %d history rows, got %d:\n%s", len(nginx.Config.History), len(rows), r.Stdout)
	}
	if rows[0]["IMAGE"] != nginx.ShortID() {
		t.Errorf("first row IMAGE %q, want %s", rows[0]["IMAGE"], nginx.ShortID())
	}
	for _, row := range rows[1:] {
		if row["IMAGE"] != "<missing>" {
			t.Errorf("older rows show <missing> (Docker), got %q", row["IMAGE"])
		}
	}
	// Newest first, full text with --no-trunc.
	var want []string
	for i := len(nginx.Config.History) - 1; i >= 0; i-- {
		want = append(want, nginx.Config.History[i].CreatedBy)
	}
	lines := e.nerdOK("image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", "nginx").Lines()
	if !slices.Equal(lines, want) {
		t.Errorf("history CreatedBy:\n%q\nwant\n%q", lines, want)
	}
	// Empty layers are 0B; the layer rows have a size.
	sizes := e.nerdOK("image", "history", "--format", "{{.Size}}", "nginx").Lines()
	if len(sizes) != len(want) || sizes[0] != "0B" || sizes[len(sizes)-1] == "0B" {
		t.Errorf("history sizes %q", sizes)
	}
	// `history` is the top-level alias; -q prints the one ID.
	if got := e.nerdOK("history", "-q", "nginx").Lines(); len(got) == 0 || got[0] != nginx.ShortID() {
		t.Errorf("history -q: %q", got)
	}
	e.nerdFail(1, []string{"image", "history", "no-such-image"}, `no such image`)
}
