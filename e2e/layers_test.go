package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// Crafted layers and images for tests, hostile ones included: entries are
// written exactly as given (no cleaning of names or link targets).

type tarEntry struct {
	Header tar.Header
	Body   []byte
}

func tFile(name, body string, mode int64) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body))}, Body: []byte(body)}
}

func tDir(name string, mode int64) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}}
}

func tSymlink(name, target string) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func tHardlink(name, target string) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

func tCharDev(name string, major, minor int64) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeChar, Name: name, Mode: 0o666, Devmajor: major, Devminor: minor}}
}

// tarBytes writes the entries as an uncompressed tar.
func tarBytes(entries ...tarEntry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.Header
		if h.ModTime.IsZero() {
			h.ModTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			panic(err)
		}
		if _, err := tw.Write(e.Body); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// rawLayer is a layer whose blob bytes and diff ID are given as they are, so a
// test can push a blob that is not what it claims (truncated gzip …).
type rawLayer struct {
	blob   []byte
	diffID v1.Hash
	mt     types.MediaType
}

func (l *rawLayer) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(l.blob))
	return h, err
}
func (l *rawLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *rawLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}
func (l *rawLayer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(l.blob))
}
func (l *rawLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l *rawLayer) MediaType() (types.MediaType, error) { return l.mt, nil }

// newRawLayer makes a layer from blob bytes with the diff ID of uncompressed.
func newRawLayer(blob, uncompressed []byte) v1.Layer {
	sum := sha256.Sum256(uncompressed)
	return &rawLayer{blob: blob, diffID: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, mt: types.DockerLayer}
}

// tarLayer is a well-formed gzip layer holding the entries.
func tarLayer(entries ...tarEntry) v1.Layer {
	raw := tarBytes(entries...)
	return newRawLayer(gzipBytes(raw), raw)
}

// uniqueLayer is a small layer with content no other layer has.
func uniqueLayer(t testing.TB) v1.Layer {
	return tarLayer(tDir("data/", 0o755), tFile("data/id", randHex(16)+" "+t.Name()+"\n", 0o644))
}

// pushImage pushes a linux/amd64 image made of layers to r as repoTag and
// returns its description (Ref is the full reference a user would type).
func pushImage(t testing.TB, r *registry, repoTag string, cfg v1.Config, layers ...v1.Layer) imageInfo {
	t.Helper()
	if cfg.Env == nil {
		cfg.Env = []string{defaultPath}
	}
	if cfg.Cmd == nil {
		cfg.Cmd = []string{"sh"}
	}
	now := time.Now().UTC().Truncate(time.Second)
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", Created: v1.Time{Time: now}, Config: cfg,
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: now}, CreatedBy: "e2e " + t.Name()}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return pushV1Image(t, r, repoTag, img)
}

// copyImage pushes an existing test image under another name on r.
func copyImage(t testing.TB, src imageInfo, r *registry, repoTag string) imageInfo {
	t.Helper()
	return pushV1Image(t, r, repoTag, src.img)
}

func pushV1Image(t testing.TB, r *registry, repoTag string, img v1.Image) imageInfo {
	t.Helper()
	full := r.ref(repoTag)
	ref, err := name.ParseReference(full, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, r.remoteOptions()...); err != nil {
		t.Fatalf("pushing %s: %v", full, err)
	}
	repo, tag, _ := strings.Cut(repoTag, ":")
	info, err := describe(full, repo, tag, img)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

var nonRepoChars = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueRepo is a registry repository name of its own for this test:
// e2e/<test name>-<random>.
func uniqueRepo(t testing.TB) string {
	n := strings.Trim(nonRepoChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(n) > 60 {
		n = n[:60]
	}
	return "e2e/" + strings.Trim(n, "-") + "-" + randHex(4)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
