package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/moby/term"
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
)

// defaultDetachKeys is Docker's ctrl-p,ctrl-q.
const defaultDetachKeys = "ctrl-p,ctrl-q"

// streamOptions say how a CLI session is wired to a container's stdio.
type streamOptions struct {
	stdin bool
	// noStdout and noStderr leave a stream out (run -a picks streams).
	noStdout   bool
	noStderr   bool
	tty        bool
	sigProxy   bool
	detachKeys string
}

// errDetached means the user typed the detach sequence; the command exits 0.
var errDetached = errors.New("detached")

// streamContainer copies the attach stream to the terminal until the
// container exits (returning its exit code) or the user detaches. With a
// TTY the local terminal is put in raw mode and window size changes are
// forwarded; without one, signals are forwarded (--sig-proxy).
func streamContainer(ctx context.Context, app *cli.App, eng *engine.Engine, c *engine.Container, s *container.Stream, opts streamOptions) (int, error) {
	inFd, inIsTerm := term.GetFdInfo(app.In)
	outFd, outIsTerm := term.GetFdInfo(app.Out)
	if opts.tty && opts.stdin && inIsTerm {
		state, err := term.SetRawTerminal(inFd)
		if err == nil {
			defer term.RestoreTerminal(inFd, state)
		}
	}
	if opts.tty && outIsTerm {
		resize := func() {
			if ws, err := term.GetWinsize(outFd); err == nil {
				_ = s.Resize(int(ws.Height), int(ws.Width))
			}
		}
		resize()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				resize()
			}
		}()
	}
	if opts.sigProxy && !opts.tty {
		sigs := make(chan os.Signal, 16)
		signal.Notify(sigs)
		defer signal.Stop(sigs)
		go func() {
			for sig := range sigs {
				ss, ok := sig.(syscall.Signal)
				if !ok || ss == syscall.SIGCHLD || ss == syscall.SIGPIPE || ss == syscall.SIGURG || ss == syscall.SIGWINCH {
					continue
				}
				if cl, err := container.Dial(c.Paths); err == nil {
					_ = cl.Kill(context.Background(), int(ss), false)
				}
			}
		}()
	}
	detached := make(chan struct{}, 1)
	if opts.stdin {
		keys := opts.detachKeys
		if keys == "" {
			keys = defaultDetachKeys
		}
		var in io.Reader = app.In
		if opts.tty {
			if seq, err := term.ToBytes(keys); err == nil {
				in = term.NewEscapeProxy(app.In, seq)
			}
		}
		go func() {
			_, err := io.Copy(s.Stdin(), in)
			var esc term.EscapeError
			if errors.As(err, &esc) {
				detached <- struct{}{}
				return
			}
			_ = s.CloseStdin()
		}()
	}
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := s.Copy(app.Out, app.Err)
		done <- result{code, err}
	}()
	select {
	case r := <-done:
		return r.code, r.err
	case <-detached:
		_ = s.Close()
		if opts.tty {
			// Docker prints nothing on detach but leaves the cursor on a
			// fresh line.
			_, _ = io.WriteString(app.Err, "\r\n")
		}
		return 0, errDetached
	case <-ctx.Done():
		_ = s.Close()
		return 0, ctx.Err()
	}
}

// sessionResult turns the end of an attached session into the command's
// result: a detach is success, otherwise the container's exit code.
func sessionResult(code int, err error) error {
	if errors.Is(err, errDetached) {
		return nil
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return &cli.StatusError{Code: code}
	}
	return nil
}
