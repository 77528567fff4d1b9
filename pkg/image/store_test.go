package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	nregistry "github.com/nerd-project/nerd/pkg/image/registry"
)

// testRegistry serves an in-memory registry on loopback and returns its
// host:port.
func testRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func pushRandom(t *testing.T, ref string, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(2048, layers)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return img
}

func openStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustRef(t *testing.T, s string) Reference {
	t.Helper()
	r, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPullTagRemoveCollectsEverything(t *testing.T) {
	host := testRegistry(t)
	want := pushRandom(t, host+"/team/app:v1", 3)
	s := openStore(t)
	ctx := context.Background()

	res, err := s.Pull(ctx, mustRef(t, host+"/team/app:v1"), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfgName, _ := want.ConfigName()
	if res.Image.ID.String() != cfgName.String() {
		t.Fatalf("image ID %s, want config digest %s", res.Image.ID, cfgName)
	}
	for _, k := range res.Image.ChainIDs() {
		if !s.snaps.Exists(k.Encoded()) {
			t.Fatalf("snapshot %s not committed", k)
		}
	}
	again, err := s.Pull(ctx, mustRef(t, host+"/team/app:v1"), PullOptions{})
	if err != nil || !again.UpToDate {
		t.Fatalf("second pull: up to date = %v, err = %v", again != nil && again.UpToDate, err)
	}

	if err := s.Tag(host+"/team/app:v1", mustRef(t, "other:tag")); err != nil {
		t.Fatal(err)
	}
	items, err := s.Remove("other:tag", RemoveOptions{})
	if err != nil || len(items) != 1 || items[0].Untagged != "other:tag" {
		t.Fatalf("rmi of one of two names: %+v, %v", items, err)
	}
	items, err = s.Remove(host+"/team/app:v1", RemoveOptions{})
	if err != nil || items[len(items)-1].Deleted != res.Image.ID.String() {
		t.Fatalf("rmi of the last name: %+v, %v", items, err)
	}
	blobs, _ := s.content.listBlobs()
	snaps, _ := s.snaps.List()
	if len(blobs) != 0 || len(snaps) != 0 {
		t.Fatalf("after rmi: %d blobs and %d snapshots left", len(blobs), len(snaps))
	}
	if _, err := s.Get(host + "/team/app:v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after rmi: %v", err)
	}
}

func TestMirrorServesDockerHubNames(t *testing.T) {
	host := testRegistry(t)
	pushRandom(t, host+"/library/nginx:latest", 1)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "docker.io"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "server = \"https://registry-1.docker.io\"\n[host.\"http://" + host + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "docker.io", "hosts.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, WithHosts(&nregistry.Hosts{Dir: dir}))
	res, err := s.Pull(context.Background(), mustRef(t, "nginx"), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Image.Names[0].String(); got != "docker.io/library/nginx:latest" {
		t.Fatalf("name %q", got)
	}
	if len(res.Image.RepoDigests) != 1 || !strings.HasPrefix(res.Image.RepoDigests[0], "nginx@sha256:") {
		t.Fatalf("repo digests %v", res.Image.RepoDigests)
	}
}

func TestConcurrentPullsShareLayers(t *testing.T) {
	host := testRegistry(t)
	img := pushRandom(t, host+"/a:1", 4)
	b, err := name.ParseReference(host + "/b:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(b, img); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := host + "/a:1"
			if i%2 == 1 {
				ref = host + "/b:1"
			}
			// Separate Store values model separate nerd processes.
			other, err := Open(s.dataRoot)
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = other.Pull(context.Background(), mustRef(t, ref), PullOptions{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pull %d: %v", i, err)
		}
	}
	images, _ := s.List()
	if len(images) != 1 || len(images[0].Names) != 2 {
		t.Fatalf("want one image with two names, got %d images", len(images))
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	host := testRegistry(t)
	pushRandom(t, host+"/app:v1", 2)
	src := openStore(t)
	res, err := src.Pull(context.Background(), mustRef(t, host+"/app:v1"), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := src.Save([]string{host + "/app:v1"}, &buf); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	loaded, err := dst.Load(context.Background(), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[0].ID != res.Image.ID {
		t.Fatalf("loaded %+v, want ID %s", loaded, res.Image.ID)
	}
	if _, err := dst.Get(host + "/app:v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Load(context.Background(), strings.NewReader("not a tar at all"), nil); !errors.Is(err, ErrNotArchive) {
		t.Fatalf("load of garbage: %v", err)
	}
}

func TestPushThenPullElsewhere(t *testing.T) {
	host := testRegistry(t)
	pushRandom(t, host+"/src:1", 2)
	s := openStore(t)
	ctx := context.Background()
	res, err := s.Pull(ctx, mustRef(t, host+"/src:1"), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(host+"/src:1", mustRef(t, host+"/dst:2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Push(ctx, mustRef(t, host+"/dst:2"), PushOptions{}); err != nil {
		t.Fatal(err)
	}
	other := openStore(t)
	got, err := other.Pull(ctx, mustRef(t, host+"/dst:2"), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Image.ID != res.Image.ID {
		t.Fatalf("pushed image ID %s, pulled back %s", res.Image.ID, got.Image.ID)
	}
}

func TestBadReferences(t *testing.T) {
	for _, s := range []string{"UPPER/case", ":tag", "a b", "nginx@sha256:short"} {
		if _, err := ParseReference(s); !errors.Is(err, ErrInvalidReference) || !strings.HasPrefix(err.Error(), "invalid reference format") {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// Get by name loads only the named image, and must give the same answer
// as the full lookup: every name of the image, a moved tag, IDs, digests.
func TestGetByNameAmongMany(t *testing.T) {
	host := testRegistry(t)
	s := openStore(t)
	ctx := context.Background()
	ids := map[string]v1.Hash{}
	for _, n := range []string{"a", "b", "c"} {
		img := pushRandom(t, host+"/team/"+n+":v1", 1)
		ids[n], _ = img.ConfigName()
		if _, err := s.Pull(ctx, mustRef(t, host+"/team/"+n+":v1"), PullOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Tag(host+"/team/b:v1", mustRef(t, "shared:tag")); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		host + "/team/a:v1": "a", host + "/team/b:v1": "b", "shared:tag": "b",
		"docker.io/library/shared:tag": "b", ids["c"].String(): "c", ids["c"].Hex[:12]: "c",
	} {
		img, err := s.Get(ref)
		if err != nil || img.ID.String() != ids[want].String() {
			t.Errorf("Get(%s) = %v, %v; want image %s", ref, img, err, want)
			continue
		}
		if want == "b" && len(img.Names) != 2 {
			t.Errorf("Get(%s): names %v, want both of b's", ref, img.Names)
		}
	}
	// The tag moves to c: Get follows it.
	if err := s.Tag(host+"/team/c:v1", mustRef(t, "shared:tag")); err != nil {
		t.Fatal(err)
	}
	if img, err := s.Get("shared:tag"); err != nil || img.ID.String() != ids["c"].String() {
		t.Errorf("Get(shared:tag) after the tag moved: %v, %v", img, err)
	}
	if _, err := s.Get("nosuch:tag"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nosuch:tag): %v, want not found", err)
	}
}
