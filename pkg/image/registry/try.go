package registry

import (
	"context"
	"errors"
)

// Try calls fn with each endpoint in order and returns the first success.
//
// Any error moves on to the next endpoint: a mirror that lacks the image
// (404), is unreachable, or refuses our credentials should never stop a
// pull that the upstream can serve, which is containerd's behaviour too. If
// every endpoint fails, the error of the last one is returned: with
// Endpoints' ordering that is the upstream, whose error is the one the user
// would have seen without mirrors, so messages stay the same with or without
// a mirror. A cancelled ctx stops the walk at once and returns ctx.Err().
func Try[T any](ctx context.Context, eps []Endpoint, fn func(Endpoint) (T, error)) (T, error) {
	var (
		zero T
		err  = errors.New("no registry endpoint to try")
	)
	for _, ep := range eps {
		if cerr := ctx.Err(); cerr != nil {
			return zero, cerr
		}
		var v T
		if v, err = fn(ep); err == nil {
			return v, nil
		}
	}
	return zero, err
}
