package e2e

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// `nerd pull nginx` as a user types it, served by the docker.io mirror.
func TestPullShortNameViaMirror(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.pullOK("nginx")
	r.wantStdout(t,
		"Using default tag: latest",
		"latest: Pulling from library/nginx",
		"Digest: "+nginx.Digest,
		"Status: Downloaded newer image for nginx:latest",
	)
	for _, l := range nginx.Layers {
		r.wantStdout(t, strings.TrimPrefix(l, "sha256:")[:12]+": Pull complete")
	}
	if got := r.lastLine(); got != "docker.io/library/nginx:latest" {
		t.Errorf("last line %q, want docker.io/library/nginx:latest", got)
	}
	row := findRow(e.images(), "nginx", "latest")
	if row == nil || row["IMAGE ID"] != nginx.ShortID() {
		t.Fatalf("images: want nginx latest %s, got %v", nginx.ShortID(), row)
	}
	if s := e.committedSnapshots(); len(s) != 2 {
		t.Errorf("want 2 committed snapshots (one per layer), have %v", s)
	}
	// Pulling again changes nothing and says so.
	r = e.pullOK("nginx")
	r.wantStdout(t, "Status: Image is up to date for nginx:latest")
	if s := e.committedSnapshots(); len(s) != 2 {
		t.Errorf("after a second pull: want 2 committed snapshots, have %v", s)
	}
}

func TestPullHostPortReference(t *testing.T) {
	t.Parallel()
	img := copyImage(t, busybox, reg, "team/app:v2")
	e := newEnv(t)
	r := e.pullOK(img.Ref)
	r.wantStdout(t, "v2: Pulling from team/app", "Digest: "+img.Digest,
		"Status: Downloaded newer image for "+img.Ref)
	if got := r.lastLine(); got != img.Ref {
		t.Errorf("last line %q, want %q", got, img.Ref)
	}
	row := findRow(e.images(), reg.Host+"/team/app", "v2")
	if row == nil || row["IMAGE ID"] != busybox.ShortID() {
		t.Fatalf("images: want %s/team/app v2 %s, got %v", reg.Host, busybox.ShortID(), e.images())
	}
	got := e.inspect(img.Ref)
	if !sameSet(got.RepoTags, []string{img.Ref}) {
		t.Errorf("RepoTags %v", got.RepoTags)
	}
}

func TestPullByDigest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ref := "busybox@" + busybox.Digest
	r := e.pullOK(ref)
	if got := r.lastLine(); got != "docker.io/library/"+ref {
		t.Errorf("last line %q, want docker.io/library/%s", got, ref)
	}
	rows := e.images()
	if row := findRow(rows, "busybox", "<none>"); row == nil || row["IMAGE ID"] != busybox.ShortID() {
		t.Fatalf("images: want busybox <none> %s, got %v", busybox.ShortID(), rows)
	}
	rows = e.images("--digests")
	row := findRow(rows, "busybox", "<none>")
	if row == nil || row["DIGEST"] != busybox.Digest {
		t.Fatalf("images --digests: want busybox <none> %s, got %v", busybox.Digest, rows)
	}
	got := e.inspect(ref)
	if got.Id != busybox.ID || len(got.RepoTags) != 0 || !sameSet(got.RepoDigests, []string{"busybox@" + busybox.Digest}) {
		t.Errorf("inspect: Id %s RepoTags %v RepoDigests %v", got.Id, got.RepoTags, got.RepoDigests)
	}
}

// A digest of a platform manifest (not the index) pulls that manifest.
func TestPullByPlatformManifestDigest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox@" + busyboxARM.ManifestDigest)
	if got := e.inspect("busybox@" + busyboxARM.ManifestDigest); got.Id != busyboxARM.ID || got.Architecture != "arm64" {
		t.Errorf("inspect: Id %s arch %s, want %s arm64", got.Id, got.Architecture, busyboxARM.ID)
	}
}

func TestPullPlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdOK("pull", "--platform", "linux/arm64", "busybox")
	got := e.inspect("busybox")
	if got.Id != busyboxARM.ID || got.Architecture != "arm64" || got.Os != "linux" || got.Config.Labels["org.nerd.e2e.variant"] != "arm64" {
		t.Errorf("want the arm64 busybox %s, got Id %s %s/%s labels %v", busyboxARM.ID, got.Id, got.Os, got.Architecture, got.Config.Labels)
	}
	if row := findRow(e.images(), "busybox", "latest"); row == nil || row["IMAGE ID"] != busyboxARM.ShortID() {
		t.Errorf("images: want busybox latest %s, got %v", busyboxARM.ShortID(), row)
	}
}

func TestPullQuiet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.nerdOK("pull", "-q", "busybox")
	if r.Stdout != "docker.io/library/busybox:latest\n" {
		t.Errorf("pull -q stdout %q, want only the full reference line", r.Stdout)
	}
	r = e.nerdOK("pull", "--quiet", "busybox@"+busybox.Digest)
	if r.Stdout != "docker.io/library/busybox@"+busybox.Digest+"\n" {
		t.Errorf("pull --quiet by digest: stdout %q", r.Stdout)
	}
}

// Images that share nothing but a tag name stay apart: pulling a moved tag
// leaves the old image behind, untagged (dangling).
func TestPullMovedTagLeavesDangling(t *testing.T) {
	t.Parallel()
	repo := uniqueRepo(t)
	first := pushImage(t, reg, repo+":latest", v1.Config{}, uniqueLayer(t))
	e := newEnv(t)
	e.pullOK(first.Ref)
	second := pushImage(t, reg, repo+":latest", v1.Config{}, uniqueLayer(t))
	e.pullOK(second.Ref)
	if got := e.inspect(second.Ref).Id; got != second.ID {
		t.Fatalf("after re-pull the tag points at %s, want %s", got, second.ID)
	}
	dangling := e.nerdOK("images", "--filter", "dangling=true", "-q", "--no-trunc").Lines()
	if !sameSet(dangling, []string{first.ID}) {
		t.Errorf("dangling images %v, want [%s]", dangling, first.ID)
	}
}
