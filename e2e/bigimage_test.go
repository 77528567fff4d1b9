package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// The benchmark's big image (library/big:latest): the debian test image's
// layer plus a second layer with a large package set installed with apt in a
// chroot, about 120 MB compressed in all (debian ~30 MB + ~90 MB). It is
// built only by the benchmark (loadBigImage), never by TestMain, and cached
// like the other test images under a key that includes the debian image's
// digest, so a rebuilt debian image makes a new big image. Bump bigRecipe
// after changing bigPackages or buildBig.
const bigRecipe = "big-v2"

// bigPackages: a compiler toolchain and two interpreters. Measured on
// bookworm (gzip, default level): debian layer 29.7 MB + this layer ~90 MB.
// (build-essential with g++, git and vim as well comes to ~170 MB.)
var bigPackages = []string{"gcc", "libc6-dev", "make", "python3", "perl"}

// loadBigImage returns the big image from the cache, building it first if
// needed (debootstrap debs and apt need deb.debian.org the first time).
func loadBigImage() (v1.Image, error) {
	debDir, err := cachedBuild(debianRecipe, buildDebianNginx)
	if err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	debIdx, err := layoutIndex(debDir, "")
	if err != nil {
		return nil, err
	}
	deb, err := layoutImage(debIdx, "debian")
	if err != nil {
		return nil, err
	}
	dd, err := deb.Digest()
	if err != nil {
		return nil, err
	}
	key := bigRecipe + "-" + dd.Hex[:12]
	dir, err := cachedBuild(key, func(dir string) error { return buildBig(dir, deb) })
	if err != nil {
		return nil, fmt.Errorf("big: %w", err)
	}
	idx, err := layoutIndex(dir, "")
	if err != nil {
		return nil, err
	}
	return layoutImage(idx, "big")
}

// buildBig unpacks deb's single layer into a tree, installs bigPackages on a
// copy of it, and writes the image (deb's layer + the difference) into an
// OCI layout in dir with ref name "big".
func buildBig(dir string, deb v1.Image) error {
	work := filepath.Join(dir, "work")
	base, top := filepath.Join(work, "base"), filepath.Join(work, "top")
	defer safeRemoveAll(work) //nolint:errcheck
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	logFile := filepath.Join(dir, "build.log")

	layers, err := deb.Layers()
	if err != nil {
		return err
	}
	if len(layers) != 1 {
		return fmt.Errorf("debian image has %d layers, want 1", len(layers))
	}
	if err := extractLayer(layers[0], base, logFile); err != nil {
		return fmt.Errorf("unpacking the debian layer: %w", err)
	}

	t0 := time.Now()
	if err := runLogged(logFile, "cp", "-a", base, top); err != nil {
		return err
	}
	if err := chrootInstall(base, top, logFile, bigPackages...); err != nil {
		return err
	}
	if err := slimTree(top); err != nil {
		return err
	}
	logf("  big: apt-get install %s took %v", strings.Join(bigPackages, " "), time.Since(t0).Round(time.Second))
	created := time.Date(2025, 5, 20, 2, 0, 0, 0, time.UTC)
	layerFile := filepath.Join(dir, "big.tar.gz")
	diff, err := writeDiffLayer(base, top, layerFile)
	if err != nil {
		return fmt.Errorf("big layer: %w", err)
	}
	for _, want := range []string{"usr/bin/gcc-12", "usr/bin/make", "usr/bin/cpan", "usr/bin/python3"} {
		if !slices.Contains(diff.Changed, want) {
			return fmt.Errorf("big layer lacks %s", want)
		}
	}
	top2, err := tarballLayer(layerFile)
	if err != nil {
		return err
	}

	cf, err := deb.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.Config.Labels = map[string]string{"org.nerd.e2e.bench": "big"}
	img, err := mutate.ConfigFile(deb, cf)
	if err != nil {
		return err
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: top2, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "RUN apt-get install -y " + strings.Join(bigPackages, " ") + " # nerd e2e bench",
	}})
	if err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnn: "big"})); err != nil {
		return err
	}
	_ = os.Remove(layerFile) // in the layout's blobs now

	var total int64
	all, err := img.Layers()
	if err != nil {
		return err
	}
	var sizes []string
	for _, l := range all {
		n, err := l.Size()
		if err != nil {
			return err
		}
		total += n
		sizes = append(sizes, fmt.Sprintf("%.1f MB", float64(n)/1e6))
	}
	logf("  big: layers %s, %.1f MB compressed in all", strings.Join(sizes, " + "), float64(total)/1e6)
	return nil
}

// extractLayer unpacks a gzip layer with GNU tar as root (owners, modes,
// mtimes and hardlinks kept; the test layers carry no device nodes and no
// whiteouts).
func extractLayer(l v1.Layer, dir, logFile string) error {
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	args := []string{"--numeric-owner", "--same-permissions", "--same-owner", "-xzf", "-", "-C", dir}
	fmt.Fprintf(f, "+ tar %v\n", args)
	cmd := exec.Command("tar", args...)
	cmd.Stdin = io.Reader(rc)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("tar %v: %w\n%s", args, err, tail(logFile))
	}
	return nil
}
