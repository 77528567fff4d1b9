package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// content is the blob half of the OCI image layout under <data-root>/content:
// blobs/sha256/<hex>. Blobs are immutable and named by their digest, so
// writers need no lock: each writes a private temp file and renames it into
// place only after the digest checks out.
type content struct {
	root string
}

func (c content) blobPath(d digest.Digest) string {
	return filepath.Join(c.root, "blobs", d.Algorithm().String(), d.Encoded())
}

func (c content) ingestDir() string { return filepath.Join(c.root, "ingest") }

// has reports whether the blob is present.
func (c content) has(d digest.Digest) bool {
	if d.Validate() != nil {
		return false
	}
	_, err := os.Stat(c.blobPath(d))
	return err == nil
}

// open opens a blob for reading.
func (c content) open(d digest.Digest) (*os.File, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	f, err := os.Open(c.blobPath(d))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	return f, nil
}

// read returns a small blob (manifest, config) whole.
func (c content) read(d digest.Digest) ([]byte, error) {
	f, err := c.open(d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// put stores data as a blob and returns its digest.
func (c content) put(data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	if c.has(d) {
		return d, nil
	}
	w, err := c.writer(d)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return "", err
	}
	return d, w.Commit()
}

// blobWriter is a blob being written: bytes go to a temp file while being
// hashed; Commit renames it into place only if the digest matches.
type blobWriter struct {
	c      content
	want   digest.Digest
	f      *os.File
	h      hash.Hash
	n      int64
	closed bool
}

func (c content) writer(want digest.Digest) (*blobWriter, error) {
	if err := want.Validate(); err != nil {
		return nil, fmt.Errorf("blob %s: %w", want, err)
	}
	if want.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("blob %s: unsupported digest algorithm", want)
	}
	if err := os.MkdirAll(c.ingestDir(), 0o700); err != nil {
		return nil, fmt.Errorf("creating ingest dir: %w", err)
	}
	f, err := os.CreateTemp(c.ingestDir(), want.Encoded()[:12]+"-*")
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", want, err)
	}
	return &blobWriter{c: c, want: want, f: f, h: sha256.New()}, nil
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Commit verifies the digest and moves the blob into place. It does not
// fsync: the caller syncs the file system once before it records anything
// that refers to the blob.
func (w *blobWriter) Commit() error {
	defer w.Abort()
	got := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(w.h.Sum(nil)))
	if got != w.want {
		return fmt.Errorf("%w: blob %s: got %s", ErrDigestMismatch, w.want, got)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("blob %s: %w", w.want, err)
	}
	w.closed = true
	dst := w.c.blobPath(w.want)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("blob %s: %w", w.want, err)
	}
	if err := os.Rename(w.f.Name(), dst); err != nil {
		return fmt.Errorf("blob %s: %w", w.want, err)
	}
	return nil
}

// Abort drops the temp file; harmless after Commit.
func (w *blobWriter) Abort() {
	if !w.closed {
		w.f.Close()
		w.closed = true
	}
	os.Remove(w.f.Name())
}

// ErrDigestMismatch is wrapped when downloaded or loaded bytes do not hash to
// the digest that names them.
var ErrDigestMismatch = errors.New("digest mismatch")

// listBlobs returns every stored blob digest (for garbage collection).
func (c content) listBlobs() ([]digest.Digest, error) {
	dir := filepath.Join(c.root, "blobs", "sha256")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]digest.Digest, 0, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

func (c content) remove(d digest.Digest) error {
	err := os.Remove(c.blobPath(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (c content) size(d digest.Digest) int64 {
	fi, err := os.Stat(c.blobPath(d))
	if err != nil {
		return 0
	}
	return fi.Size()
}
