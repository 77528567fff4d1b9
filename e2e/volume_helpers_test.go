package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Helpers for the volume tests (issue 5).

// mountInfo is one element of Docker's container inspect .Mounts.
type mountInfo struct {
	Type        string `json:"Type"`
	Name        string `json:"Name"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

// volumeInfo is Docker's volume inspect object.
type volumeInfo struct {
	CreatedAt  string            `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
}

// mounts is .Mounts of container name.
func (e *env) mounts(name string) []mountInfo {
	e.t.Helper()
	r := e.nerdOK("container", "inspect", "--format", "{{json .Mounts}}", name)
	var out []mountInfo
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		e.t.Fatalf("decoding .Mounts: %v\n%s", err, r)
	}
	return out
}

// volumes lists `volume ls -q` plus args.
func (e *env) volumes(args ...string) []string {
	e.t.Helper()
	return e.nerdOK(append([]string{"volume", "ls", "-q"}, args...)...).Lines()
}

// volumeInspect decodes `volume inspect name`.
func (e *env) volumeInspect(name string) volumeInfo {
	e.t.Helper()
	r := e.nerdOK("volume", "inspect", name)
	var out []volumeInfo
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("volume inspect %s: want one object (%v):\n%s", name, err, r)
	}
	return out[0]
}

// hasVolume reports whether `volume ls -q` lists name.
func (e *env) hasVolume(name string) bool {
	return slices.Contains(e.volumes(), name)
}

// cleanupVolumes registers a cleanup that checks no half-made or
// half-removed volume directory (".tmp-…", ".rm-…") is left in the store
// and prunes the volumes no container uses. It runs before the container
// cleanup of newBareContainerEnv (cleanups run last-registered first); the
// rest goes with the test's directory.
func (e *env) cleanupVolumes(t *testing.T) {
	t.Cleanup(func() {
		ents, _ := os.ReadDir(filepath.Join(e.Root, "volumes"))
		for _, ent := range ents {
			if n := ent.Name(); strings.HasPrefix(n, ".tmp-") || strings.HasPrefix(n, ".rm-") {
				t.Errorf("cleanup: left in volumes/: %s", n)
			}
		}
		r := e.within(60*time.Second).nerd("volume", "prune", "-a", "-f")
		if r.Code != 0 {
			t.Errorf("cleanup: volume prune -a -f:\n%s", r)
		}
	})
}

// newVolumeEnv is newContainerEnv whose cleanup also removes volumes.
func newVolumeEnv(t *testing.T) *env {
	t.Helper()
	e := newBareContainerEnv(t)
	e.cleanupVolumes(t)
	e.pullOK("busybox")
	return e
}

// volumeImage pushes busybox plus a layer of entries, with VOLUME vols,
// and returns its reference.
func volumeImage(t *testing.T, vols []string, entries ...tarEntry) string {
	t.Helper()
	img := busybox.img
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Volumes = map[string]struct{}{}
	for _, v := range vols {
		cfg.Volumes[v] = struct{}{}
	}
	if len(entries) > 0 {
		if img, err = mutate.Append(img, mutate.Addendum{Layer: tarLayer(entries...), History: v1.History{CreatedBy: "e2e " + t.Name()}}); err != nil {
			t.Fatal(err)
		}
	}
	if img, err = mutate.Config(img, cfg); err != nil {
		t.Fatal(err)
	}
	info := pushV1Image(t, reg, uniqueRepo(t)+":latest", img)
	return info.Ref
}

// volumeData is the host path of a volume's data.
func (e *env) volumeData(name string) string { return filepath.Join(e.Root, "volumes", name, "_data") }

// readHost reads a host file, "" when missing.
func readHost(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
