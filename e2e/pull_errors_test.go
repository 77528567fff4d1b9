package e2e

import (
	"crypto/rand"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Bad input to pull: a clear error, Docker's exit code, nothing changed.

func TestPullInvalidReference(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"UPPER/case", "UPPER", "library/UPPER", ":tag", "busybox:", "busy box", "busybox@sha256:123"} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.nerdFail(1, []string{"pull", ref}, "invalid reference format")
			e.assertEmptyStore()
		})
	}
}

func TestPullUnknownRepository(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"pull", reg.ref("e2e/no-such-repo:latest")}, `not found|manifest unknown|name unknown|does not exist`)
	e.assertEmptyStore()
}

func TestPullUnknownTag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"pull", reg.ref("library/busybox:no-such-tag")}, `not found|manifest unknown`)
	// Through the mirror, as a user types it: the mirror says 404, then
	// docker.io itself is tried (unreachable here), as Docker and containerd do.
	e.nerdFail(1, []string{"pull", "busybox:no-such-tag"})
	e.assertEmptyStore()
}

func TestPullUnreachableRegistry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"pull", "127.0.0.1:1/x"}, `connection refused|connect`)
	e.assertEmptyStore()
}

func TestPullNoMatchingPlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"pull", "--platform", "linux/s390x", "busybox"}, `no matching manifest for linux/s390x`)
	e.assertEmptyStore()
}

func TestPullBadFlagAndArgs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(125, []string{"pull", "--bogus", "busybox"}, `unknown flag: --bogus`)
	e.nerdFail(125, []string{"pull", "--platform"}, `flag needs an argument`)
	e.nerdFail(1, []string{"pull"}, `requires (exactly )?1 argument`)
	e.nerdFail(1, []string{"pull", "busybox", "nginx"}, `requires (exactly )?1 argument`)
	e.assertEmptyStore()
}

// A blob the registry serves with content that does not match its digest.
func TestPullDigestMismatch(t *testing.T) {
	t.Parallel()
	t.Run("layer", func(t *testing.T) {
		t.Parallel()
		img := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{}, uniqueLayer(t))
		if err := reg.corruptBlob(img.Layers[0]); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t)
		// The changed bytes may break the gzip or tar stream before the
		// digest is known: any clear error will do.
		e.nerdFail(1, []string{"pull", img.Ref})
		e.assertEmptyStore()
	})
	// Uncompressed, so the changed bytes still unpack: only the digest
	// check can catch them.
	t.Run("uncompressed layer", func(t *testing.T) {
		t.Parallel()
		raw := tarBytes(tDir("data/", 0o755), tFile("data/file", strings.Repeat("0123456789abcdef", 4096), 0o644))
		layer := &rawLayer{blob: raw, diffID: newRawLayer(nil, raw).(*rawLayer).diffID, mt: types.OCIUncompressedLayer}
		img := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{}, layer)
		if err := reg.corruptBlob(img.Layers[0]); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t)
		e.nerdFail(1, []string{"pull", img.Ref}, `digest|checksum`)
		e.assertEmptyStore()
	})
	t.Run("config", func(t *testing.T) {
		t.Parallel()
		img := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{}, uniqueLayer(t))
		if err := reg.corruptBlob(img.ID); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t)
		e.nerdFail(1, []string{"pull", img.Ref}, `digest|checksum`)
		e.assertEmptyStore()
	})
}

func TestPullCorruptCompression(t *testing.T) {
	t.Parallel()
	// Enough incompressible data that the cut lands inside the deflate stream.
	payload := make([]byte, 256<<10)
	_, _ = rand.Read(payload)
	raw := tarBytes(tDir("data/", 0o755), tarEntry{Header: tFile("data/blob", "", 0o644).Header, Body: payload})
	gz := gzipBytes(raw)
	cases := map[string]v1.Layer{
		"truncated gzip":  newRawLayer(gz[:len(gz)/2], raw),
		"not gzip":        newRawLayer(payload[:4096], raw),
		"gzip of garbage": newRawLayer(gzipBytes(payload[:8192]), payload[:8192]),
		// A sound stream whose content is not what the config's diff_ids say.
		"wrong diff id": newRawLayer(gz, raw[:len(raw)-1024]),
	}
	for name, layer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img := pushImage(t, reg, uniqueRepo(t)+":latest", v1.Config{}, layer)
			e := newEnv(t)
			e.nerdFail(1, []string{"pull", img.Ref})
			e.assertEmptyStore()
		})
	}
}
