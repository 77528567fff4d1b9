package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/engine"
)

// getContainer finds a container or says Docker's "No such container".
func getContainer(eng *engine.Engine, ref string) (*engine.Container, error) {
	c, err := eng.Get(ref)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, fmt.Errorf("No such container: %s", ref)
	}
	return c, err
}

// openContainer opens the engine and finds ref in it: what every
// single-container command starts with.
func openContainer(app *cli.App, ref string) (*engine.Engine, *engine.Container, error) {
	eng, err := app.Engine()
	if err != nil {
		return nil, nil, err
	}
	c, err := getContainer(eng, ref)
	return eng, c, err
}

// forEachContainer runs fn on every named container, printing each one's
// error and returning the last (Docker's multi-container commands).
func forEachContainer(app *cli.App, refs []string, fn func(*engine.Engine, *engine.Container) error) error {
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range refs {
		c, err := getContainer(eng, ref)
		if err == nil {
			err = fn(eng, c)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(app, errs)
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
