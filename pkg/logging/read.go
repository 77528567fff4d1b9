package logging

import (
	"bufio"
	"context"
	"io"
	"time"
)

// ReadOptions selects what Read prints, like `docker logs` flags.
type ReadOptions struct {
	// Since and Until bound the entries' times; zero means unbounded.
	// Entries before Since are skipped; reading stops at the first entry
	// after Until.
	Since, Until time.Time
	// Tail limits the output to the last Tail entries across the rotated
	// files (oldest first); a negative value means all. As in Docker, the
	// tail is taken before Since filters it.
	Tail int
	// Follow keeps reading as the file grows and across rotations.
	Follow bool
	// Timestamps prefixes each line with its time, formatted as Docker's
	// RFC3339NanoFixed, and a space.
	Timestamps bool
	// Details prefixes each line with the entry's attributes and a space,
	// as Docker's --details (a lone space when there are none).
	Details bool
}

const (
	// rfc3339NanoFixed is Docker's jsonmessage.RFC3339NanoFixed, used by
	// `docker logs -t`: unlike RFC3339Nano it keeps trailing zeros, so
	// timestamps line up.
	rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"
	// Polling interval bounds while following: short right after data so
	// a busy log streams promptly, longer when idle.
	minPoll = 5 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// Read writes the log entries of the json-file log at path (and its rotated
// files path.1, path.2, ...) to stdout or stderr according to each entry's
// stream. A missing file prints nothing. Lines still being written (no
// newline yet) are never printed half.
//
// With Follow, Read keeps following the file, across rotations, until
// running reports false and everything written by then has been printed,
// or until ctx is cancelled (then it returns ctx.Err()). running must turn
// false only once the monitor has closed its Writer; a nil running means
// the container is not running.
func Read(ctx context.Context, path string, opts ReadOptions, stdout, stderr io.Writer, running func() bool) error {
	if running == nil {
		running = func() bool { return false }
	}
	r := &reader{path: path, opts: opts, out: newOutput(stdout, stderr)}
	err := r.run(ctx, running)
	if ferr := r.out.flush(); err == nil {
		err = ferr
	}
	if err == errStop {
		err = nil
	}
	return err
}

type reader struct {
	path string
	opts ReadOptions
	out  *output
	dec  decoder
	e    entry
	pre  []byte
}

func (r *reader) run(ctx context.Context, running func() bool) error {
	files := openChain(r.path)
	defer func() {
		for _, f := range files {
			f.close()
		}
	}()
	if r.opts.Tail >= 0 {
		if err := tail(files, r.opts.Tail); err != nil {
			return err
		}
	}
	for i, f := range files {
		if !f.skip {
			if err := r.pump(ctx, f); err != nil {
				return err
			}
		}
		if i < len(files)-1 {
			f.close() // done with it: free its buffer
		}
	}
	if !r.opts.Follow {
		return nil
	}
	var cur *logFile
	if len(files) > 0 {
		cur = files[len(files)-1]
		files = files[:len(files)-1] // follow closes cur
	}
	return r.follow(ctx, cur, running)
}

// follow reads cur as it grows, moving on to its successor when it is
// rotated, until the writer has stopped and everything is printed.
func (r *reader) follow(ctx context.Context, cur *logFile, running func() bool) error {
	defer func() {
		if cur != nil {
			cur.close()
		}
	}()
	delay := minPoll
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Sampled before reading: whatever was written before the
		// container stopped is read in this round.
		stopped := !running()
		progress := false
		if cur != nil {
			before := cur.read
			if err := r.pump(ctx, cur); err != nil {
				return err
			}
			progress = cur.read != before
		}
		if cur == nil || !cur.isCurrent(r.path) {
			// The writer renames only after its last write to the
			// old file, so one more pass reads it to the end.
			if cur != nil {
				if err := r.pump(ctx, cur); err != nil {
					return err
				}
			}
			if next := successor(r.path, cur); next != nil {
				if cur != nil {
					cur.close()
				}
				cur = next
				continue
			}
		}
		if stopped {
			return nil
		}
		if progress { // more may have come meanwhile: look before sleeping
			delay = minPoll
			continue
		}
		if !r.opts.Until.IsZero() && time.Now().After(r.opts.Until) {
			return nil // any later entry would be after Until
		}
		if err := r.out.flush(); err != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, maxPoll)
	}
}

// pump prints every complete line f has now.
func (r *reader) pump(ctx context.Context, f *logFile) error {
	for n := 0; ; n++ {
		if n&1023 == 1023 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := f.line()
		if err != nil || line == nil {
			return err
		}
		if err := r.emit(line); err != nil {
			return err
		}
	}
}

// emit prints one entry. It returns errStop at the first entry after Until.
func (r *reader) emit(line []byte) error {
	e := &r.e
	if !r.dec.decode(line, e) {
		return nil // not an entry (e.g. torn by a crash): skip it
	}
	var t time.Time
	if r.opts.Timestamps || !r.opts.Since.IsZero() || !r.opts.Until.IsZero() {
		var ok bool
		if t, ok = e.when(); !ok {
			return nil
		}
		if !r.opts.Since.IsZero() && t.Before(r.opts.Since) {
			return nil
		}
		if !r.opts.Until.IsZero() && t.After(r.opts.Until) {
			return errStop
		}
	}
	var stream int
	switch string(e.stream) {
	case "stdout":
		stream = 0
	case "stderr":
		stream = 1
	default:
		return nil
	}
	pre := r.pre[:0]
	if r.opts.Timestamps {
		pre = append(t.AppendFormat(pre, rfc3339NanoFixed), ' ')
	}
	if r.opts.Details {
		pre = e.details(pre)
	}
	r.pre = pre
	return r.out.write(stream, pre, e.log)
}

type stopError struct{}

func (stopError) Error() string { return "end of requested logs" }

// errStop ends reading without an error.
var errStop error = stopError{}

// output buffers stdout and stderr, flushing one before writing to the
// other so that their relative order is kept on a shared terminal.
type output struct {
	w     [2]*bufio.Writer
	dirty int // index of the writer holding unflushed data, or -1
}

func newOutput(stdout, stderr io.Writer) *output {
	o := &output{dirty: -1}
	o.w[0] = bufio.NewWriterSize(stdout, 64<<10)
	if stderr == stdout {
		o.w[1] = o.w[0]
	} else {
		o.w[1] = bufio.NewWriterSize(stderr, 64<<10)
	}
	return o
}

func (o *output) write(stream int, pre, line []byte) error {
	if o.dirty >= 0 && o.dirty != stream && o.w[o.dirty] != o.w[stream] {
		if err := o.w[o.dirty].Flush(); err != nil {
			return err
		}
	}
	o.dirty = stream
	o.w[stream].Write(pre)
	_, err := o.w[stream].Write(line)
	return err
}

func (o *output) flush() error {
	if o.dirty < 0 {
		return nil
	}
	err := o.w[o.dirty].Flush()
	o.dirty = -1
	return err
}
