package main

import (
	"time"

	"github.com/nerd-project/nerd/pkg/container"
)

// Docker's restart manager: the first restart waits 100 ms, each next one
// twice as long up to a minute, and a run of 10 s or more starts over.
const (
	backoffMin   = 100 * time.Millisecond
	backoffMax   = time.Minute
	backoffReset = 10 * time.Second
)

// shouldRestart applies a restart policy (Docker semantics) to an exit:
// never after a manual stop; always and unless-stopped restart whatever the
// code; on-failure restarts a non-zero exit, at most MaximumRetryCount
// times (0: no limit) since the user started the container.
func shouldRestart(p container.RestartPolicy, code int, manual bool, restarts int) bool {
	if manual {
		return false
	}
	switch p.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (p.MaximumRetryCount <= 0 || restarts < p.MaximumRetryCount)
	}
	return false
}

type backoff struct{ d time.Duration }

// next is the delay before the next restart, given how long the run that
// just ended lasted.
func (b *backoff) next(ran time.Duration) time.Duration {
	if ran >= backoffReset {
		b.d = 0
	}
	if b.d == 0 {
		b.d = backoffMin
	} else if b.d < backoffMax {
		b.d *= 2
	}
	if b.d > backoffMax {
		b.d = backoffMax
	}
	return b.d
}
