package main

import (
	"io"
	"sync"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/moby/term"
)

// progressDisplay renders engine progress exactly as the Docker CLI renders
// its daemon's pull/push stream: moving per-layer bars on a terminal, one
// line per status change otherwise.
type progressDisplay struct {
	ch   chan jsonstream.Message
	done chan struct{}
	once sync.Once
}

func newProgressDisplay(out io.Writer) *progressDisplay {
	d := &progressDisplay{ch: make(chan jsonstream.Message, 64), done: make(chan struct{})}
	fd, isTerm := term.GetFdInfo(out)
	go func() {
		defer close(d.done)
		msgs := func(yield func(jsonstream.Message, error) bool) {
			for m := range d.ch {
				if !yield(m, nil) {
					// Keep draining so senders never block.
					for range d.ch {
					}
					return
				}
			}
		}
		_ = jsonmessage.DisplayJSONMessages(msgs, out, fd, isTerm, nil)
	}()
	return d
}

// Send queues one message; it is safe from many goroutines.
func (d *progressDisplay) Send(m jsonstream.Message) { d.ch <- m }

// Close flushes the display.
func (d *progressDisplay) Close() {
	d.once.Do(func() { close(d.ch) })
	<-d.done
}
