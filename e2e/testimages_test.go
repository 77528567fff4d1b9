package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Test images are built once and cached in $NERD_E2E_CACHE (default
// /var/cache/nerd-e2e) as OCI layouts, one directory per recipe version:
// change a recipe → bump its version → it is rebuilt. Builds run under a lock
// file (two `go test` processes may race) in a temp dir that is renamed into
// place only when complete, so a half-built entry is never used.
const (
	busyboxRecipe = "busybox-v1"
	debianRecipe  = "debian-nginx-v3"
	refNameAnn    = "org.opencontainers.image.ref.name"
	defaultPath   = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// imageInfo describes an image as the harness pushed it.
type imageInfo struct {
	Ref            string   // what a user types: "nginx", "busybox", "127.0.0.1:5000/private/busybox:latest"
	Repo           string   // repository path on the registry: "library/nginx"
	Tag            string   // "latest"
	Digest         string   // what pull resolves the tag to (the index digest for busybox)
	ManifestDigest string   // the platform manifest's digest
	ID             string   // sha256:<config digest>, Docker's image ID
	DiffIDs        []string // rootfs diff IDs, bottom first
	Layers         []string // compressed layer digests, bottom first
	Config         *v1.ConfigFile
	img            v1.Image
}

// ShortID is the 12-hex-digit ID `images` prints.
func (i imageInfo) ShortID() string { return strings.TrimPrefix(i.ID, "sha256:")[:12] }

type builtImages struct {
	busybox v1.ImageIndex
	debian  v1.Image
	nginx   v1.Image
}

func cacheRoot() string {
	if d := os.Getenv("NERD_E2E_CACHE"); d != "" {
		return d
	}
	return "/var/cache/nerd-e2e"
}

// loadTestImages returns the cached test images, building what is missing.
func loadTestImages() (*builtImages, error) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil, fmt.Errorf("busybox-static is needed (apt-get install busybox-static): %w", err)
	}
	sum := sha256.Sum256(bb)
	bbDir, err := cachedBuild(busyboxRecipe+"-"+hex.EncodeToString(sum[:6]), buildBusybox)
	if err != nil {
		return nil, fmt.Errorf("busybox: %w", err)
	}
	debDir, err := cachedBuild(debianRecipe, buildDebianNginx)
	if err != nil {
		return nil, fmt.Errorf("debian/nginx: %w", err)
	}
	out := &builtImages{}
	if out.busybox, err = layoutIndex(bbDir, "busybox"); err != nil {
		return nil, err
	}
	debIdx, err := layoutIndex(debDir, "") // the layout's own index
	if err != nil {
		return nil, err
	}
	if out.debian, err = layoutImage(debIdx, "debian"); err != nil {
		return nil, err
	}
	if out.nginx, err = layoutImage(debIdx, "nginx"); err != nil {
		return nil, err
	}
	return out, nil
}

// cachedBuild returns cacheRoot()/key, building it with build(tmpdir) first
// if needed.
func cachedBuild(key string, build func(dir string) error) (string, error) {
	root := cacheRoot()
	final := filepath.Join(root, key)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(final); err == nil {
		return final, nil // built by another process while we waited
	}
	// Leftovers of builds that died: we hold the lock, so nobody owns them.
	stale, _ := filepath.Glob(filepath.Join(root, "tmp-*"))
	for _, s := range stale {
		if err := safeRemoveAll(s); err != nil {
			return "", fmt.Errorf("removing stale build %s: %w", s, err)
		}
	}
	tmp, err := os.MkdirTemp(root, "tmp-"+key+"-")
	if err != nil {
		return "", err
	}
	start := time.Now()
	logf("building test image %s in %s (cached afterwards) …", key, root)
	if err := build(tmp); err != nil {
		_ = safeRemoveAll(tmp)
		return "", err
	}
	took := time.Since(start).Round(time.Second)
	// Readable by everyone: rootless tests read the cache too.
	_ = filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink == 0 {
			mode := fs.FileMode(0o644)
			if d.IsDir() {
				mode = 0o755
			}
			_ = os.Chmod(p, mode)
		}
		return nil
	})
	_ = os.WriteFile(filepath.Join(tmp, "build-time.txt"), []byte(took.String()+"\n"), 0o644)
	if err := os.Rename(tmp, final); err != nil {
		_ = safeRemoveAll(tmp)
		return "", err
	}
	logf("built test image %s in %v", key, took)
	return final, nil
}

func layoutIndex(dir, refName string) (v1.ImageIndex, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	ii, err := p.ImageIndex()
	if err != nil || refName == "" {
		return ii, err
	}
	d, err := findByRefName(ii, refName)
	if err != nil {
		return nil, err
	}
	return ii.ImageIndex(d)
}

func layoutImage(ii v1.ImageIndex, refName string) (v1.Image, error) {
	d, err := findByRefName(ii, refName)
	if err != nil {
		return nil, err
	}
	return ii.Image(d)
}

func findByRefName(ii v1.ImageIndex, refName string) (v1.Hash, error) {
	im, err := ii.IndexManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, d := range im.Manifests {
		if d.Annotations[refNameAnn] == refName {
			return d.Digest, nil
		}
	}
	return v1.Hash{}, fmt.Errorf("no %q in cached layout", refName)
}

// buildBusybox: one layer with /bin/busybox and its applet links, plus a
// minimal /etc, /tmp, /root and /var; an index with linux/amd64 and a
// linux/arm64 variant (same layer, architecture arm64 and a label).
func buildBusybox(dir string) error {
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := []tarEntry{
		tDir("bin/", 0o755),
		{Header: tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))}, Body: bin},
	}
	for _, a := range strings.Fields(string(list)) {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		entries = append(entries, tSymlink("bin/"+a, "busybox"))
	}
	entries = append(entries,
		tDir("etc/", 0o755),
		tFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0o644),
		tFile("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644),
		tDir("root/", 0o700),
		tDir("tmp/", 0o1777),
		tDir("var/", 0o755),
	)
	for i := range entries {
		entries[i].Header.ModTime = mtime
	}
	layer, err := bytesLayer(gzipBytes(tarBytes(entries...)), types.OCILayer)
	if err != nil {
		return err
	}
	mk := func(arch, variant string, labels map[string]string) (v1.Image, error) {
		cfg := &v1.ConfigFile{
			Architecture: arch, Variant: variant, OS: "linux", Created: v1.Time{Time: mtime},
			Config: v1.Config{Cmd: []string{"sh"}, Env: []string{defaultPath}, Labels: labels},
			RootFS: v1.RootFS{Type: "layers"},
		}
		img, err := mutate.ConfigFile(empty.Image, cfg)
		if err != nil {
			return nil, err
		}
		img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
			Created: v1.Time{Time: mtime}, CreatedBy: "ADD busybox-static /bin # nerd e2e",
		}})
		if err != nil {
			return nil, err
		}
		return addEmptyHistory(img, mtime, `CMD ["sh"]`)
	}
	amd, err := mk("amd64", "", nil)
	if err != nil {
		return err
	}
	arm, err := mk("arm64", "v8", map[string]string{"org.nerd.e2e.variant": "arm64"})
	if err != nil {
		return err
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnn: "busybox"}))
}

// addEmptyHistory appends history entries of instructions that make no layer.
func addEmptyHistory(img v1.Image, t time.Time, createdBy ...string) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	for _, c := range createdBy {
		cf.History = append(cf.History, v1.History{Created: v1.Time{Time: t}, CreatedBy: c, EmptyLayer: true})
	}
	return mutate.ConfigFile(img, cf)
}

// pushTestImages pushes the images to the registries and fills the globals.
func pushTestImages(b *builtImages) error {
	push := func(r *registry, repoTag string, img v1.Image, idx v1.ImageIndex) error {
		ref, err := name.ParseReference(r.ref(repoTag), name.Insecure)
		if err != nil {
			return err
		}
		if idx != nil {
			return remote.WriteIndex(ref, idx, r.remoteOptions()...)
		}
		return remote.Write(ref, img, r.remoteOptions()...)
	}
	if err := push(reg, "library/busybox:latest", nil, b.busybox); err != nil {
		return err
	}
	if err := push(reg, "library/debian:bookworm-slim", b.debian, nil); err != nil {
		return err
	}
	if err := push(reg, "library/nginx:latest", b.nginx, nil); err != nil {
		return err
	}
	idxDigest, err := b.busybox.Digest()
	if err != nil {
		return err
	}
	amd, arm, err := platformImages(b.busybox)
	if err != nil {
		return err
	}
	if busybox, err = describe("busybox", "library/busybox", "latest", amd); err != nil {
		return err
	}
	busybox.Digest = idxDigest.String()
	if busyboxARM, err = describe("busybox", "library/busybox", "latest", arm); err != nil {
		return err
	}
	busyboxARM.Digest = idxDigest.String()
	if debian, err = describe("debian:bookworm-slim", "library/debian", "bookworm-slim", b.debian); err != nil {
		return err
	}
	if nginx, err = describe("nginx", "library/nginx", "latest", b.nginx); err != nil {
		return err
	}
	if err := push(authReg, "private/busybox:latest", amd, nil); err != nil {
		return err
	}
	privateImage, err = describe(authReg.ref("private/busybox:latest"), "private/busybox", "latest", amd)
	return err
}

func platformImages(idx v1.ImageIndex) (amd, arm v1.Image, err error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, nil, err
		}
		switch d.Platform.Architecture {
		case "amd64":
			amd = img
		case "arm64":
			arm = img
		}
	}
	if amd == nil || arm == nil {
		return nil, nil, fmt.Errorf("busybox index lacks amd64 or arm64")
	}
	return amd, arm, nil
}

// describe fills an imageInfo from an image.
func describe(ref, repo, tag string, img v1.Image) (imageInfo, error) {
	info := imageInfo{Ref: ref, Repo: repo, Tag: tag, img: img}
	d, err := img.Digest()
	if err != nil {
		return info, err
	}
	info.Digest, info.ManifestDigest = d.String(), d.String()
	cn, err := img.ConfigName()
	if err != nil {
		return info, err
	}
	info.ID = cn.String()
	if info.Config, err = img.ConfigFile(); err != nil {
		return info, err
	}
	for _, h := range info.Config.RootFS.DiffIDs {
		info.DiffIDs = append(info.DiffIDs, h.String())
	}
	layers, err := img.Layers()
	if err != nil {
		return info, err
	}
	for _, l := range layers {
		ld, err := l.Digest()
		if err != nil {
			return info, err
		}
		info.Layers = append(info.Layers, ld.String())
	}
	return info, nil
}

// tarballLayer is a gzip layer file on disk (Docker media type).
func tarballLayer(path string) (v1.Layer, error) {
	return tarball.LayerFromFile(path)
}

// bytesLayer is an in-memory compressed layer.
func bytesLayer(b []byte, mt types.MediaType) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(mt))
}
