package e2e

import (
	"archive/tar"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Tests of the harness itself: they need no nerd command to work.

func TestHarnessRegistryServesTestImages(t *testing.T) {
	t.Parallel()
	for _, img := range []imageInfo{busybox, debian, nginx} {
		ref, err := name.ParseReference(reg.ref(img.Repo+":"+img.Tag), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if desc.Digest.String() != img.Digest {
			t.Errorf("%s: registry has %s, harness says %s", ref, desc.Digest, img.Digest)
		}
	}
	if busybox.ID == busyboxARM.ID || busyboxARM.Config.Architecture != "arm64" {
		t.Errorf("arm64 busybox is not distinguishable: %s %s", busybox.ID, busyboxARM.Config.Architecture)
	}
	if nginx.Layers[0] != debian.Layers[0] || len(nginx.Layers) != 2 || len(debian.Layers) != 1 {
		t.Errorf("nginx must be debian's layer plus one: %v / %v", nginx.Layers, debian.Layers)
	}
	// The mirror config a user would write.
	b, err := os.ReadFile(filepath.Join(mirrorHostsDir, "docker.io", "hosts.toml"))
	if err != nil || !strings.Contains(string(b), "http://"+reg.Host) {
		t.Errorf("hosts.toml: %v %s", err, b)
	}
}

func TestHarnessAuthRegistry(t *testing.T) {
	t.Parallel()
	resp, err := http.Get("http://" + authReg.Host + "/v2/private/busybox/manifests/latest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous manifest GET: %d, want 401", resp.StatusCode)
	}
	ref, _ := name.ParseReference(privateImage.Ref, name.Insecure)
	if _, err := remote.Head(ref, remote.WithAuth(&authn.Basic{Username: authUser, Password: "wrong"})); err == nil {
		t.Error("wrong password accepted")
	}
	desc, err := remote.Head(ref, authReg.remoteOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != privateImage.Digest {
		t.Errorf("private image digest %s, want %s", desc.Digest, privateImage.Digest)
	}
}

// The test images must have what the issue asks: real Debian files with
// symlinks and hardlinks, a whiteout in nginx's layer, and no device nodes.
func TestHarnessImageLayers(t *testing.T) {
	t.Parallel()
	scan := func(img imageInfo, i int) (names []string, types map[byte]int) {
		layers, err := img.img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layers[i].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		types = map[byte]int{}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return names, types
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, strings.TrimSuffix(h.Name, "/"))
			types[h.Typeflag]++
			if strings.HasPrefix(h.Name, "/") || strings.Contains(h.Name, "..") {
				t.Errorf("%s layer %d: bad name %q", img.Ref, i, h.Name)
			}
		}
	}
	bbNames, bbTypes := scan(busybox, 0)
	if !slices.Contains(bbNames, "bin/busybox") || !slices.Contains(bbNames, "bin/sh") || bbTypes[tar.TypeSymlink] < 50 {
		t.Errorf("busybox layer: %d entries, %v", len(bbNames), bbTypes)
	}
	debNames, debTypes := scan(debian, 0)
	for _, want := range []string{"etc/motd", "usr/bin/bash", "etc/passwd", "usr/bin/perl"} {
		if !slices.Contains(debNames, want) {
			t.Errorf("debian layer lacks %s", want)
		}
	}
	if debTypes[tar.TypeLink] == 0 || debTypes[tar.TypeSymlink] == 0 {
		t.Errorf("debian layer needs hardlinks and symlinks: %v", debTypes)
	}
	ngxNames, ngxTypes := scan(nginx, 1)
	if !slices.Contains(ngxNames, "etc/.wh.motd") || !slices.Contains(ngxNames, "usr/sbin/nginx") {
		t.Errorf("nginx layer lacks etc/.wh.motd or usr/sbin/nginx (%d entries)", len(ngxNames))
	}
	for _, ty := range []map[byte]int{bbTypes, debTypes, ngxTypes} {
		if ty[tar.TypeChar]+ty[tar.TypeBlock]+ty[tar.TypeFifo] > 0 {
			t.Errorf("device/fifo entries in a test layer: %v", ty)
		}
	}
	for _, p := range debNames {
		if strings.HasPrefix(p, "usr/share/doc/") || strings.HasPrefix(p, "var/lib/apt/lists/") && !strings.HasSuffix(p, "lists/partial") {
			t.Errorf("debian layer not slim: %s", p)
			break
		}
	}
	t.Logf("layers: busybox %d entries, debian %d %v, nginx %d %v", len(bbNames), len(debNames), debTypes, len(ngxNames), ngxTypes)
	if got := nginx.Config.Config.ExposedPorts; got == nil {
		t.Errorf("nginx ExposedPorts: %v", got)
	}
}
