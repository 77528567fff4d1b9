package logging

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

const (
	// maxLine is Docker's copier buffer size: a line that reaches it
	// without a newline is logged as a 16 KiB partial entry.
	maxLine = 16 * 1024
	// flushAt bounds the encoded bytes held in memory during one large
	// Write; the monitor's memory is a benchmarked figure.
	flushAt = 32 * 1024
	// fileMode is the mode Docker creates log files with.
	fileMode = 0o640
)

// now is the writer's clock; tests replace it.
var now = time.Now

// Writer appends Docker json-file entries to a log file and rotates it.
// It is safe for concurrent use by its streams: one mutex serialises them,
// so entries never interleave.
type Writer struct {
	mu      sync.Mutex
	path    string
	opts    Options
	f       *os.File
	size    int64  // bytes in the current file, counting buf
	buf     []byte // encoded entries not yet written
	ts      []byte // time of the current Write call, RFC3339Nano
	streams []*stream
	err     error // first I/O error
	closed  bool
}

// NewWriter opens (creating if needed) the log file at path for appending,
// so a restarted container keeps its earlier output.
func NewWriter(path string, opts Options) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{path: path, opts: opts, f: f, size: fi.Size()}, nil
}

// Stream returns the writer for one output stream, "stdout" or "stderr".
// It splits the byte stream into lines: each complete line becomes one
// entry, a line of 16 KiB or more is cut into 16 KiB entries without "\n"
// like Docker's partial messages, and a trailing incomplete line is held
// until more data arrives, Flush or Close. Every Write is flushed
// to the file before it returns, so `logs` sees output promptly.
//
// Writes never fail because of file errors: a full disk must not block the
// container on a full pipe. Such errors drop the data and are reported by
// Err and Close.
func (w *Writer) Stream(name string) io.Writer {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.streams {
		if s.name == name {
			return s
		}
	}
	s := &stream{w: w, name: name, escaped: string(appendEscaped(nil, []byte(name)))}
	w.streams = append(w.streams, s)
	return s
}

// Err returns the first error met writing or rotating the file, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Flush logs what each stream holds, a last line without a newline, as a
// final entry without "\n", as Docker's copier does when a run's output
// ends. The Writer stays open: call it after draining the output of a
// process that exited, before a restart appends the next run's output.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return os.ErrClosed
	}
	w.flushStreams()
	return nil
}

func (w *Writer) flushStreams() {
	w.ts = w.ts[:0]
	for _, s := range w.streams {
		if len(s.pending) > 0 {
			s.entry(s.pending, false)
			s.pending = nil
		}
	}
	w.flush()
}

// Close does what Flush does (so nothing is lost at exit) and closes the
// file. It returns the first I/O error met during the Writer's life.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.closed = true
	w.flushStreams()
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			w.setErr(err)
		}
		w.f = nil
	}
	return w.err
}

type stream struct {
	w       *Writer
	name    string
	escaped string
	pending []byte // start of an incomplete line, shorter than maxLine
	// partialTS is the time of a line's first partial entry: Docker stamps
	// all pieces of a split line with it.
	partialTS []byte
}

// Write implements io.Writer; see Writer.Stream.
func (s *stream) Write(p []byte) (int, error) {
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, os.ErrClosed
	}
	w.ts = w.ts[:0] // stamped lazily, once per call
	n := len(p)
	for len(p) > 0 {
		if len(s.pending) > 0 {
			// Complete the held line first; it may end in p, fill up to
			// maxLine, or stay incomplete.
			room := min(len(p), maxLine-len(s.pending))
			if i := bytes.IndexByte(p[:room], '\n'); i >= 0 {
				s.pending = append(s.pending, p[:i]...)
				s.entry(s.pending, true)
				s.pending = s.pending[:0]
				p = p[i+1:]
				continue
			}
			s.pending = append(s.pending, p[:room]...)
			p = p[room:]
			if len(s.pending) == maxLine {
				s.entry(s.pending, false)
				s.pending = s.pending[:0]
			}
			continue
		}
		// Fast path: lines wholly inside p are encoded without a copy.
		if i := bytes.IndexByte(p[:min(len(p), maxLine)], '\n'); i >= 0 {
			s.entry(p[:i], true)
			p = p[i+1:]
			continue
		}
		if len(p) >= maxLine {
			s.entry(p[:maxLine], false)
			p = p[maxLine:]
			continue
		}
		s.pending = append(s.pending, p...)
		p = nil
	}
	if len(s.pending) == 0 && cap(s.pending) > 4096 {
		s.pending = nil // don't keep a long line's buffer in the monitor
	}
	w.flush()
	return n, nil
}

// entry encodes one log entry; complete says whether the line ended with a
// newline. w.mu must be held.
func (s *stream) entry(line []byte, complete bool) {
	w := s.w
	ts := s.partialTS
	if len(ts) == 0 {
		if len(w.ts) == 0 {
			w.ts = now().UTC().AppendFormat(w.ts, time.RFC3339Nano)
		}
		ts = w.ts
		if !complete {
			s.partialTS = append(s.partialTS, ts...)
		}
	}
	if w.opts.MaxSize > 0 && w.size >= w.opts.MaxSize {
		// Like Docker: rotate before an entry once the file has reached
		// MaxSize, so a file ends at most one entry past it.
		w.rotate()
	}
	start := len(w.buf)
	w.buf = appendEntry(w.buf, line, complete, s.escaped, ts)
	w.size += int64(len(w.buf) - start)
	if complete {
		s.partialTS = s.partialTS[:0]
	}
	if len(w.buf) >= flushAt {
		w.flush()
	}
}

// flush writes the buffered entries to the file. w.mu must be held.
func (w *Writer) flush() {
	if len(w.buf) == 0 {
		return
	}
	if w.f == nil {
		// A failed rotation left no file open; try again rather than
		// losing everything from now on.
		f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
		if err != nil {
			w.setErr(err)
			w.buf = w.buf[:0]
			return
		}
		w.f = f
	}
	if _, err := w.f.Write(w.buf); err != nil {
		w.setErr(err)
	}
	if cap(w.buf) > 2*flushAt {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
}

// rotate moves path to path.1 (path.1 to path.2 and so on, dropping the
// oldest) and starts a new empty file, as Docker's loggerutils.LogFile
// does. With MaxFiles <= 1 the current file is unlinked instead, so that a
// reader still holding it can finish it. w.mu must be held.
func (w *Writer) rotate() {
	w.flush() // everything so far belongs to the old file
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			w.setErr(err)
		}
		w.f = nil
	}
	w.size = 0
	var err error
	if w.opts.MaxFiles > 1 {
		err = ignoreMissing(os.Remove(w.path + "." + strconv.Itoa(w.opts.MaxFiles-1)))
		// Docker tries every rename down from max-file; starting at the
		// first missing file spares a large max-file many failing calls.
		top := 1
		for top < w.opts.MaxFiles-1 {
			if _, err := os.Lstat(w.path + "." + strconv.Itoa(top)); err != nil {
				break
			}
			top++
		}
		for i := top; i > 1 && err == nil; i-- {
			err = ignoreMissing(os.Rename(w.path+"."+strconv.Itoa(i-1), w.path+"."+strconv.Itoa(i)))
		}
		if err == nil {
			err = ignoreMissing(os.Rename(w.path, w.path+".1"))
		}
	} else {
		err = ignoreMissing(os.Remove(w.path))
	}
	flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if err != nil {
		// Docker truncates anyway; keeping the data and trying again after
		// another MaxSize bytes loses nothing.
		w.setErr(err)
	} else {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(w.path, flags, fileMode)
	if err != nil {
		w.setErr(err)
		return
	}
	w.f = f
}

func (w *Writer) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
