package logging

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
)

const (
	readBuf = 128 << 10
	// maxEntry bounds the bytes buffered for one line. A writer's entries
	// stay under ~100 KiB (16 KiB of text escaped at worst 6x); a longer
	// "line" is garbage and is skipped rather than buffered whole.
	maxEntry = 1 << 20
)

// logFile reads complete lines from one open log file.
type logFile struct {
	f    *os.File
	dev  uint64
	ino  uint64
	skip bool  // none of its lines are wanted (tail)
	read int64 // bytes consumed from f
	buf  []byte
	r, w int  // unread data is buf[r:w]
	scan int  // buf[r:scan] is known to hold no newline
	junk bool // skipping the rest of an oversized line
}

func openLog(name string) *logFile {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	lf := &logFile{f: f}
	if fi, err := f.Stat(); err == nil {
		lf.dev, lf.ino = fileID(fi)
	}
	return lf
}

func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return 0, 0
}

func (lf *logFile) is(fi os.FileInfo) bool {
	dev, ino := fileID(fi)
	return dev == lf.dev && ino == lf.ino
}

// close closes the file and drops its buffer; closing twice is harmless.
func (lf *logFile) close() {
	if lf.f != nil {
		lf.f.Close()
		lf.f, lf.buf = nil, nil
	}
}

// isCurrent reports whether lf is still the file at path, i.e. it has not
// been rotated away.
func (lf *logFile) isCurrent(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && lf.is(fi)
}

// seek positions lf to read from off on.
func (lf *logFile) seek(off int64) error {
	_, err := lf.f.Seek(off, io.SeekStart)
	lf.read, lf.r, lf.w, lf.scan = off, 0, 0, 0
	return err
}

// line returns the next complete line without its newline, or nil when the
// file holds no further complete line yet. The line is valid until the
// next call.
func (lf *logFile) line() ([]byte, error) {
	for {
		if i := bytes.IndexByte(lf.buf[lf.scan:lf.w], '\n'); i >= 0 {
			end := lf.scan + i
			line := lf.buf[lf.r:end]
			lf.r, lf.scan = end+1, end+1
			if lf.junk {
				lf.junk = false
				continue
			}
			return line, nil
		}
		lf.scan = lf.w
		if lf.r > 0 { // make room: move the partial line to the front
			n := copy(lf.buf, lf.buf[lf.r:lf.w])
			lf.r, lf.w, lf.scan = 0, n, n
		}
		if lf.w == len(lf.buf) {
			if len(lf.buf) >= maxEntry {
				lf.junk = true
				lf.w, lf.scan = 0, 0
			} else {
				lf.buf = append(lf.buf, make([]byte, max(readBuf, len(lf.buf)))...)
			}
		}
		n, err := lf.f.Read(lf.buf[lf.w:])
		lf.w += n
		lf.read += int64(n)
		if n == 0 {
			if err == io.EOF {
				err = nil
			}
			return nil, err
		}
	}
}

func rotated(path string, i int) string { return path + "." + strconv.Itoa(i) }

// openChain opens the rotated files and the current one, oldest first
// (path.N ... path.1, path). Names shift under a concurrent rotation, so
// only the oldest file is found by name; the rest are reached through
// successor, which follows the files by identity.
func openChain(path string) []*logFile {
	var oldest *logFile
	for attempt := 0; ; attempt++ {
		// A rotation renames top down, leaving a gap of one name that
		// moves from the top to path.1; look past it.
		n := 0
		for i := 1; i <= n+2; i++ {
			if _, err := os.Lstat(rotated(path, i)); err == nil {
				n = i
			}
		}
		name := path
		if n > 0 {
			name = rotated(path, n)
		}
		if oldest = openLog(name); oldest == nil {
			// Missing: no log at all, or caught between a rotation's
			// rename (or unlink, with max-file 1) and create.
			if _, err := os.Lstat(rotated(path, n+1)); (n == 0 && err != nil && attempt > 0) || attempt == 20 {
				return nil
			}
			time.Sleep(time.Millisecond)
			continue
		}
		// Still the oldest, not moved by a rotation meanwhile? Under
		// rotations back to back, settle for the best guess after a while.
		fi, err := os.Stat(name)
		_, err1 := os.Lstat(rotated(path, n+1))
		_, err2 := os.Lstat(rotated(path, n+2))
		if (err == nil && oldest.is(fi) && err1 != nil && err2 != nil) || attempt == 20 {
			break
		}
		oldest.close()
		if attempt > 2 {
			time.Sleep(time.Millisecond)
		}
	}
	files := []*logFile{oldest}
	for tries := 0; tries < 100; {
		last := files[len(files)-1]
		if last.isCurrent(path) {
			break
		}
		next := successor(path, last)
		if next == nil { // path is between rename and create
			tries++
			time.Sleep(time.Millisecond)
			continue
		}
		files = append(files, next)
	}
	return files
}

// successor opens the file that follows cur in the rotation chain: the
// file renamed after it (path.k-1 when cur is now path.k), or path itself.
// With cur nil it opens path. It returns nil when that file does not exist
// yet (the writer is between rename and create).
func successor(path string, cur *logFile) *logFile {
	for attempt := 0; attempt < 3; attempt++ {
		// Snapshot the chain, newest first (path, path.1, path.2, ...),
		// as far as cur: usually it is path.1.
		var infos []os.FileInfo
		k := -1 // cur is infos[k]
		for i := 0; ; i++ {
			name := path
			if i > 0 {
				name = rotated(path, i)
			}
			fi, err := os.Stat(name)
			if err != nil && i > 0 {
				break
			}
			infos = append(infos, fi) // nil for a missing path
			if cur == nil {
				break
			}
			if i > 0 && cur.is(fi) {
				k = i
				break
			}
		}
		next := 0 // index in infos of the file to open
		if cur != nil {
			switch {
			case k > 0:
				next = k - 1
			default:
				st, err := cur.f.Stat()
				if err != nil {
					return nil
				}
				if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 0 {
					// cur still exists: the snapshot met the gap a
					// rotation in progress leaves between renames.
					time.Sleep(time.Millisecond)
					continue
				}
				// cur was deleted (dropped as the oldest, or MaxFiles
				// 1): go on with the oldest file written after it.
				// Older leftovers (say from another max-file) have
				// older modification times.
				for i := len(infos) - 1; i > 0; i-- {
					if !infos[i].ModTime().Before(st.ModTime()) {
						next = i
						break
					}
				}
			}
		}
		if infos[next] == nil {
			return nil // path is being recreated
		}
		name := path
		if next > 0 {
			name = rotated(path, next)
		}
		lf := openLog(name)
		if lf == nil {
			continue
		}
		if lf.is(infos[next]) {
			return lf
		}
		lf.close() // rotated again since the snapshot: look again
	}
	return nil
}

// tail marks and positions files so that reading them in order yields the
// last n complete lines. The last file is never skipped: following goes on
// from its end.
func tail(files []*logFile, n int) error {
	for i := len(files) - 1; i >= 0; i-- {
		if n == 0 && i < len(files)-1 {
			files[i].skip = true
			continue
		}
		fi, err := files[i].f.Stat()
		if err != nil {
			return err
		}
		start, got, err := tailStart(files[i].f, fi.Size(), n)
		if err != nil {
			return err
		}
		if err := files[i].seek(start); err != nil {
			return err
		}
		n -= got
	}
	return nil
}

// tailStart returns the offset at which the last n complete lines of
// f[0:size) begin and how many complete lines (at most n) follow it. A
// trailing incomplete line is not counted; with n == 0 the offset is just
// past the last complete line.
func tailStart(f io.ReaderAt, size int64, n int) (int64, int, error) {
	buf := make([]byte, min(size, 64<<10))
	seenEnd := false // found the newline ending the last complete line
	count := 0
	for pos := size; pos > 0; {
		chunk := min(int64(len(buf)), pos)
		pos -= chunk
		b := buf[:chunk]
		if _, err := f.ReadAt(b, pos); err != nil && err != io.EOF {
			return 0, 0, err
		}
		for i := bytes.LastIndexByte(b, '\n'); i >= 0; i = bytes.LastIndexByte(b[:i], '\n') {
			if seenEnd {
				count++
			}
			seenEnd = true
			if count == n {
				return pos + int64(i) + 1, n, nil
			}
		}
	}
	if seenEnd {
		count++ // the first line, starting at offset 0
	}
	return 0, count, nil
}
