package e2e

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Layers built from directory trees: a full tree (the base layer) or the
// difference between two trees (new and changed entries, the directories on
// their paths, and ".wh." whiteouts for removed ones). Hardlinks inside a layer
// become TypeLink entries to the first path of the inode; owners, modes and
// mtimes are kept. Device nodes are an error: test image trees must not have any.

type inodeKey struct{ dev, ino uint64 }

type treeTarWriter struct {
	tw    *tar.Writer
	root  string
	links map[inodeKey]string
}

// add writes the entry root/rel (rel is slash-separated, no leading slash).
func (w *treeTarWriter) add(rel string) error {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no stat_t", p)
	}
	var link string
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return fmt.Errorf("device node %s in an image tree", rel)
	case m&fs.ModeSocket != 0:
		return nil // sockets are never part of an image
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = rel
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
	hdr.Uname, hdr.Gname = "", ""
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	hdr.ModTime = fi.ModTime().Truncate(time.Second)
	if fi.Mode().IsRegular() && st.Nlink > 1 {
		k := inodeKey{uint64(st.Dev), st.Ino}
		if first, ok := w.links[k]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			w.links[k] = rel
		}
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeReg {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(w.tw, f); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
	return nil
}

// whiteout writes dir/.wh.name.
func (w *treeTarWriter) whiteout(rel string, mtime time.Time) error {
	return w.tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, ModTime: mtime.Truncate(time.Second),
	})
}

// createGzipLayer writes a gzip-compressed tar to out through fn.
func createGzipLayer(out string, fn func(tw *tar.Writer) error) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := gzip.NewWriter(bw)
	tw := tar.NewWriter(zw)
	if err := fn(tw); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// writeTreeLayer writes every entry below root as one gzip layer.
func writeTreeLayer(root, out string) error {
	return createGzipLayer(out, func(tw *tar.Writer) error {
		w := &treeTarWriter{tw: tw, root: root, links: map[inodeKey]string{}}
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p == root {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			return w.add(filepath.ToSlash(rel))
		})
	})
}

// treeDiff is what top adds to base.
type treeDiff struct {
	Changed   []string // new or changed paths in top (slash-separated)
	Whiteouts []string // dir/.wh.name for paths of base missing in top
}

// diffTrees compares two trees by metadata (type, mode, owner, size, mtime,
// link target, rdev), the way layer diffs are usually computed.
func diffTrees(base, top string) (*treeDiff, error) {
	d := &treeDiff{}
	addSubtree := func(rel string) error {
		return filepath.WalkDir(filepath.Join(top, rel), func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, err := filepath.Rel(top, p)
			if err != nil {
				return err
			}
			d.Changed = append(d.Changed, filepath.ToSlash(r))
			return nil
		})
	}
	var walk func(rel string) error
	walk = func(rel string) error {
		topEntries, err := os.ReadDir(filepath.Join(top, rel))
		if err != nil {
			return err
		}
		baseEntries, err := os.ReadDir(filepath.Join(base, rel))
		if err != nil {
			return err
		}
		inTop := map[string]bool{}
		for _, e := range topEntries {
			inTop[e.Name()] = true
		}
		for _, e := range baseEntries {
			if !inTop[e.Name()] {
				d.Whiteouts = append(d.Whiteouts, path.Join(filepath.ToSlash(rel), ".wh."+e.Name()))
			}
		}
		for _, e := range topEntries {
			r := filepath.Join(rel, e.Name())
			tfi, err := os.Lstat(filepath.Join(top, r))
			if err != nil {
				return err
			}
			bfi, err := os.Lstat(filepath.Join(base, r))
			if errors.Is(err, fs.ErrNotExist) {
				if err := addSubtree(r); err != nil {
					return err
				}
				continue
			} else if err != nil {
				return err
			}
			switch {
			case tfi.IsDir() && bfi.IsDir():
				if metaChanged(filepath.Join(top, r), tfi, filepath.Join(base, r), bfi) {
					d.Changed = append(d.Changed, filepath.ToSlash(r))
				}
				if err := walk(r); err != nil {
					return err
				}
			case tfi.IsDir():
				if err := addSubtree(r); err != nil {
					return err
				}
			default:
				if bfi.IsDir() || metaChanged(filepath.Join(top, r), tfi, filepath.Join(base, r), bfi) {
					d.Changed = append(d.Changed, filepath.ToSlash(r))
				}
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	return d, nil
}

func metaChanged(tp string, t fs.FileInfo, bp string, b fs.FileInfo) bool {
	ts, bs := t.Sys().(*syscall.Stat_t), b.Sys().(*syscall.Stat_t)
	if t.Mode() != b.Mode() || ts.Uid != bs.Uid || ts.Gid != bs.Gid || ts.Rdev != bs.Rdev {
		return true
	}
	if !t.ModTime().Equal(b.ModTime()) {
		return true
	}
	if !t.IsDir() && t.Size() != b.Size() {
		return true
	}
	if t.Mode()&fs.ModeSymlink != 0 {
		tl, _ := os.Readlink(tp)
		bl, _ := os.Readlink(bp)
		return tl != bl
	}
	return false
}

// writeDiffLayer writes the diff of top over base as one gzip layer.
func writeDiffLayer(base, top, out string) (*treeDiff, error) {
	d, err := diffTrees(base, top)
	if err != nil {
		return nil, err
	}
	// Every changed path and whiteout needs the directories on its path.
	set := map[string]bool{}
	for _, p := range d.Changed {
		set[p] = true
	}
	whiteout := map[string]bool{}
	for _, p := range d.Whiteouts {
		whiteout[p] = true
	}
	for p := range mergeKeys(set, whiteout) {
		for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
			set[dir] = true
		}
	}
	all := make([]string, 0, len(set)+len(whiteout))
	for p := range mergeKeys(set, whiteout) {
		all = append(all, p)
	}
	sort.Strings(all)
	err = createGzipLayer(out, func(tw *tar.Writer) error {
		w := &treeTarWriter{tw: tw, root: top, links: map[inodeKey]string{}}
		for _, p := range all {
			if whiteout[p] {
				fi, err := os.Lstat(filepath.Join(top, path.Dir(p)))
				if err != nil {
					return err
				}
				if err := w.whiteout(p, fi.ModTime()); err != nil {
					return err
				}
				continue
			}
			if err := w.add(p); err != nil {
				return err
			}
		}
		return nil
	})
	return d, err
}

func mergeKeys(a, b map[string]bool) map[string]bool {
	m := make(map[string]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
