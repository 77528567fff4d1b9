package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeDockerArchive writes img as a docker-archive (what `docker save`
// writes) tagged tag, and returns its path.
func writeDockerArchive(t *testing.T, dir, tag string, img v1.Image) string {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(tag)+".tar")
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// newLocalImage is an image the registry has never seen: busybox's layer
// plus a layer of its own.
func newLocalImage(t *testing.T) (v1.Image, string) {
	t.Helper()
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", Config: v1.Config{Cmd: []string{"sh"}, Env: []string{defaultPath}},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		t.Fatal(err)
	}
	bbLayers, err := busybox.img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.AppendLayers(img, bbLayers[0], uniqueLayer(t))
	if err != nil {
		t.Fatal(err)
	}
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return img, id.String()
}

func TestPushAndPullBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img, id := newLocalImage(t)
	e.nerdOK("load", "-i", writeDockerArchive(t, e.Dir, "pushme:v1", img))
	repo := reg.ref(uniqueRepo(t))
	dst := repo + ":v1"
	e.nerdOK("tag", "pushme:v1", dst)

	r := e.nerdOK("push", dst)
	r.wantStdout(t, "The push refers to repository ["+repo+"]", ": Pushed")
	ref, _ := name.ParseReference(dst, name.Insecure)
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatalf("registry does not have %s after push: %v", dst, err)
	}
	r.wantStdout(t, fmt.Sprintf("v1: digest: %s size: %d", desc.Digest, desc.Size))

	// Pushing again uploads nothing.
	r = e.nerdOK("push", dst)
	for _, l := range r.Lines() {
		if strings.HasSuffix(l, ": Pushed") || strings.Contains(l, "Pushing") {
			t.Errorf("second push uploaded something: %q\n%s", l, r)
		}
	}
	r.wantStdout(t, "Layer already exists")

	// A fresh data root pulls the same image back.
	e2 := newEnv(t)
	e2.pullOK(dst)
	if got := e2.inspect(dst); got.Id != id {
		t.Errorf("pulled back Id %s, want %s", got.Id, id)
	}
	if got := e.inspect(dst).RepoDigests; !strings.Contains(strings.Join(got, " "), desc.Digest.String()) {
		t.Errorf("after push RepoDigests %v lack %s", got, desc.Digest)
	}
}

// A layer the registry has in another repository is mounted, not uploaded;
// an image pulled from a multi-platform index pushes and pulls back fine.
func TestPushCrossRepositoryMount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := reg.ref("library/busybox:latest")
	e.pullOK(src)
	dst := reg.ref(uniqueRepo(t) + ":v1")
	e.nerdOK("tag", src, dst)
	r := e.nerdOK("push", dst)
	r.wantStdout(t, "Mounted from library/busybox")
	e2 := newEnv(t)
	e2.pullOK(dst)
	if got := e2.inspect(dst).Id; got != busybox.ID {
		t.Errorf("pulled back Id %s, want %s", got, busybox.ID)
	}
}

func TestPushErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := reg.ref("e2e/not-local:v1")
	e.nerdFail(1, []string{"push", missing}, `does not exist|no such image`)
	// (UPPER/case would name the registry host UPPER, as in Docker.)
	e.nerdFail(1, []string{"push", "UPPER"}, `invalid reference format`)
	e.nerdFail(1, []string{"push"}, `requires (exactly )?1 argument`)
	e.nerdFail(125, []string{"push", "--bogus", missing}, `unknown flag`)
	e.pullOK("busybox")
	e.nerdOK("tag", "busybox", "127.0.0.1:1/e2e/x:v1")
	e.nerdFail(1, []string{"push", "127.0.0.1:1/e2e/x:v1"}, `connection refused|connect`)
	// The auth registry without credentials.
	priv := authReg.ref(uniqueRepo(t) + ":v1")
	e.nerdOK("tag", "busybox", priv)
	e.nerdFail(1, []string{"push", priv}, `unauthorized|authentication required|no basic auth credentials|denied`)
}
