package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

const (
	// readBufSize is the buffer in front of the (compressed) layer stream.
	readBufSize = 1 << 20
	// readAheadBufs × readAheadBufSize is how far decompression may run
	// ahead of unpacking.
	readAheadBufs    = 4
	readAheadBufSize = 1 << 20
	copyBufSize      = 1 << 20
	// zstdMaxWindow is what the zstd CLI decodes without --memory (--long=27).
	// A hostile layer must not make us allocate the library default of 512 MiB.
	zstdMaxWindow = 1 << 27
)

// ApplyResult is what Apply learned from the layer stream.
type ApplyResult struct {
	DiffID digest.Digest // sha256 of the uncompressed tar stream, every byte of it
	Size   int64         // unpacked bytes: sum of regular file sizes written
}

type stagingState int

const (
	stateNew stagingState = iota
	stateApplied
	stateFailed
	stateDone // committed or aborted
)

// Staging is a private, locked work directory that one layer is unpacked into
// and then committed from. It is not safe for concurrent use.
type Staging struct {
	s      *Store
	dir    string // root/staging/st-XXXX, renamed to root/<key> on commit
	fd     int    // open dir fd holding the flock that marks the dir live; -1 when done
	a      *applier
	state  stagingState
	result ApplyResult
}

// Prepare creates a new staging directory under root/staging/. The caller
// must call Commit or Abort.
func (s *Store) Prepare() (*Staging, error) {
	lk, err := s.openStagingLock()
	if err != nil {
		return nil, err
	}
	defer unix.Close(lk)
	// Shared: many Prepares may run at once, but CleanStaging (exclusive) must
	// not see our dir in the instant between mkdir and flock.
	if err := flock(lk, unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("locking staging: %w", err)
	}
	dir, err := os.MkdirTemp(s.staging, "st-")
	if err != nil {
		return nil, fmt.Errorf("creating staging dir: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil {
		err = flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("locking staging dir: %w", err)
	}
	root := filepath.Join(dir, fsName)
	if err := os.Mkdir(root, 0o755); err == nil {
		err = os.Chmod(root, 0o755) // not subject to umask: this is the rootfs "/"
	}
	if err != nil {
		os.RemoveAll(dir)
		unix.Close(fd)
		return nil, fmt.Errorf("creating staging dir: %w", err)
	}
	return &Staging{s: s, dir: dir, fd: fd, a: newApplier(root)}, nil
}

// Path returns the staging directory's layer root (what becomes Store.Path
// after Commit). Useful for inspection; callers must not write into it.
func (st *Staging) Path() string { return st.a.root }

// Apply unpacks one layer blob (gzip, zstd or plain tar, detected by magic
// bytes) into the staging directory, computing its DiffID on the way. It
// reads r to EOF, including tar padding, so a caller verifying the compressed
// digest through a tee sees every byte. Apply may be called once; after an
// error the staging dir must be aborted.
func (st *Staging) Apply(ctx context.Context, r io.Reader) (ApplyResult, error) {
	if st.state != stateNew {
		return ApplyResult{}, errors.New("snapshot: Apply called twice or after Commit/Abort")
	}
	st.state = stateFailed // until proven otherwise
	res, err := st.apply(ctx, r)
	if err != nil {
		return ApplyResult{}, err
	}
	st.result = res
	st.state = stateApplied
	return res, nil
}

func (st *Staging) apply(ctx context.Context, r io.Reader) (ApplyResult, error) {
	br := bufio.NewReaderSize(ctxReader{ctx, r}, readBufSize)
	dec, closeDec, err := decompressor(br)
	if err != nil {
		return ApplyResult{}, err
	}
	h := sha256.New()
	src := io.TeeReader(dec, h)
	ra := newReadAhead(src, readAheadBufs, readAheadBufSize, func(eof bool) error {
		closeDec()
		if !eof {
			return nil // failing: stop reading the caller's stream now
		}
		// Whatever follows the compressed stream is part of the blob the
		// caller may be verifying: read it too.
		if _, err := io.Copy(io.Discard, br); err != nil {
			return fmt.Errorf("reading layer: %w", err)
		}
		return nil
	})
	defer ra.Close()
	if err := st.a.apply(ctx, ra); err != nil {
		return ApplyResult{}, err
	}
	// archive/tar stops at the end-of-archive blocks, but the DiffID covers
	// the whole uncompressed stream (record padding included), and the
	// caller's tee needs the whole blob.
	if _, err := io.CopyBuffer(io.Discard, ra, st.a.buf); err != nil {
		return ApplyResult{}, fmt.Errorf("reading layer padding: %w", err)
	}
	return ApplyResult{DiffID: digest.NewDigest(digest.SHA256, h), Size: st.a.size}, nil
}

var (
	gzipMagic  = []byte{0x1f, 0x8b}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	bzip2Magic = []byte{'B', 'Z', 'h'}
)

// decompressor picks the decompressor by magic bytes, not media type: registries
// and old tools mislabel layers, and the bytes are what we have to unpack.
func decompressor(br *bufio.Reader) (io.Reader, func(), error) {
	magic, err := br.Peek(len(xzMagic))
	if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("reading layer: %w", err)
	}
	isZstd := bytes.HasPrefix(magic, zstdMagic) ||
		// zstd skippable frames: 0x184D2A5? little-endian
		len(magic) >= 4 && magic[0]&0xf0 == 0x50 && magic[1] == 0x2a && magic[2] == 0x4d && magic[3] == 0x18
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, decompressError{err}
		}
		return decompReader{zr}, func() { zr.Close() }, nil
	case isZstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, nil, decompressError{err}
		}
		return decompReader{zr}, zr.Close, nil
	case bytes.HasPrefix(magic, xzMagic):
		return nil, nil, errors.New("unsupported layer compression: xz")
	case bytes.HasPrefix(magic, bzip2Magic):
		return nil, nil, errors.New("unsupported layer compression: bzip2")
	default:
		return br, func() {}, nil
	}
}

// decompressError marks errors from the decompressor so they are reported as
// such ("decompressing layer: unexpected EOF") and not as tar format errors.
type decompressError struct{ err error }

func (e decompressError) Error() string { return "decompressing layer: " + e.err.Error() }
func (e decompressError) Unwrap() error { return e.err }

type decompReader struct{ r io.Reader }

func (d decompReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		var de decompressError
		if !errors.As(err, &de) {
			err = decompressError{err}
		}
	}
	return n, err
}

// ctxReader stops a long unpack when ctx is cancelled; checked once per
// buffered read (1 MiB), which is cheap.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Commit makes the unpacked layer a committed snapshot named key. parents are
// the keys of the committed snapshots below it, nearest first; they are used
// to resolve hardlinks into lower layers and the nearest is recorded as Parent.
// diffID must equal the DiffID Apply computed (the caller's expected value from
// the image config), which is how a tampered layer is refused before commit.
// If key is already committed (a concurrent pull of the same layer won), the
// staging dir is discarded and Commit returns nil.
func (st *Staging) Commit(ctx context.Context, key string, diffID digest.Digest, parents []string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	for _, p := range parents {
		if err := checkKey(p); err != nil {
			return fmt.Errorf("parent: %w", err)
		}
	}
	if st.state != stateApplied {
		return errors.New("snapshot: Commit without a successful Apply")
	}
	if diffID != st.result.DiffID {
		return fmt.Errorf("committing snapshot %s: layer DiffID %s does not match expected %s", key, st.result.DiffID, diffID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if st.s.Exists(key) {
		// The layer is committed either way; a failed removal leaves an
		// unlocked dir for CleanStaging, which is no reason to fail a pull.
		_ = st.Abort()
		return nil
	}
	if len(st.a.deferred) > 0 {
		if err := st.resolveDeferred(parents); err != nil {
			return fmt.Errorf("committing snapshot %s: %w", key, err)
		}
		// Creating the links bumped their directories' mtimes.
		if err := st.a.applyDirTimes(); err != nil {
			return fmt.Errorf("committing snapshot %s: %w", key, err)
		}
	}
	info := Info{Key: key, DiffID: diffID, Size: st.a.size, Created: time.Now().UTC()}
	if len(parents) > 0 {
		info.Parent = parents[0]
	}
	meta, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("committing snapshot %s: %w", key, err)
	}
	if err := os.WriteFile(filepath.Join(st.dir, metaName), meta, 0o600); err != nil {
		return fmt.Errorf("committing snapshot %s: writing metadata: %w", key, err)
	}
	// One syncfs for the whole layer instead of an fsync per file: the data
	// and metadata must be on disk before the rename makes them committed.
	if err := unix.Syncfs(st.fd); err != nil {
		return fmt.Errorf("committing snapshot %s: syncfs: %w", key, err)
	}
	final := filepath.Join(st.s.root, key)
	if err := renameNoReplace(st.dir, final); err != nil {
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
			_ = st.Abort() // lost the race to a concurrent commit of the same layer
			return nil
		}
		return fmt.Errorf("committing snapshot %s: %w", key, err)
	}
	st.state = stateDone
	st.release()
	if err := fsyncDir(st.s.root); err != nil {
		return fmt.Errorf("committing snapshot %s: syncing store root: %w", key, err)
	}
	return nil
}

// renameNoReplace renames without ever replacing an existing target: a plain
// rename(2) would silently replace an empty directory.
func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// Filesystem without RENAME_NOREPLACE: a committed snapshot is never
		// empty, so rename(2) fails with ENOTEMPTY/EEXIST if one exists.
		return unix.Rename(from, to)
	}
	return err
}

// Abort discards the staging directory. It is a no-op after Commit or Abort.
func (st *Staging) Abort() error {
	if st.state == stateDone {
		return nil
	}
	st.state = stateDone
	err := os.RemoveAll(st.dir)
	st.release()
	if err != nil {
		return fmt.Errorf("removing staging dir: %w", err)
	}
	return nil
}

func (st *Staging) release() {
	if st.fd >= 0 {
		unix.Close(st.fd)
		st.fd = -1
	}
}
