package registry

import (
	"context"
	"errors"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Try calls fn with each endpoint in order and returns the first success.
//
// Any error moves on to the next endpoint: a mirror that lacks the image
// (404), is unreachable, or refuses our credentials should never stop a
// pull that the upstream can serve, which is containerd's behaviour too. If
// every endpoint fails, the last error from a registry that answered (an
// HTTP status: not found, unauthorized …) is returned, else the last error:
// "manifest unknown" from a mirror says more than an unreachable upstream.
// An error wrapped with Permanent (e.g. the image has no manifest for the
// platform) is about the image, not the endpoint, and stops the walk. A
// cancelled ctx stops the walk at once and returns ctx.Err().
func Try[T any](ctx context.Context, eps []Endpoint, fn func(Endpoint) (T, error)) (T, error) {
	var (
		zero     T
		err      = errors.New("no registry endpoint to try")
		answered error
	)
	for _, ep := range eps {
		if cerr := ctx.Err(); cerr != nil {
			return zero, cerr
		}
		var v T
		if v, err = fn(ep); err == nil {
			return v, nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return zero, perm.err
		}
		var terr *transport.Error
		if errors.As(err, &terr) {
			answered = err
		}
	}
	if answered != nil {
		return zero, answered
	}
	return zero, err
}

// Permanent marks an error that trying another endpoint cannot fix.
func Permanent(err error) error { return &permanentError{err: err} }

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }
