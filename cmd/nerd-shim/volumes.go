package main

import (
	"os"
	"path/filepath"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/volume"
)

// autoRemove is --rm: the container and its anonymous volumes go.
//
// The volume lock is taken first (the engine's order: volume lock, then a
// container lock) and held until the directory is gone, so a create with
// --volumes-from this container either finds it (and its volumes) whole
// or not at all. The volumes go before the directory so that a foreground
// `run --rm`, which returns once the directory is gone, never races them.
func (m *monitor) autoRemove() {
	var anon []string
	for _, mp := range m.rec.MountPoints {
		if mp.Type == container.MountTypeVolume && mp.Anonymous {
			anon = append(anon, mp.Name)
		}
	}
	var store *volume.Store
	var tx *volume.Tx
	if len(anon) > 0 {
		// <data-root>/containers/<id> → <data-root>/volumes
		containers := filepath.Dir(m.p.Dir)
		var err error
		store, err = volume.Open(filepath.Join(filepath.Dir(containers), "volumes"), func() (map[string][]string, error) {
			return container.VolumeUsers(containers)
		})
		if err == nil {
			tx, err = store.Lock()
		}
		if err != nil {
			logf("removing anonymous volumes: %v", err)
		}
	}
	if tx != nil {
		if err := tx.RemoveUnused(anon, m.p.ID); err != nil {
			logf("removing anonymous volumes: %v", err)
		}
		defer tx.Unlock()
	}
	if unlock, err := m.lock(); err == nil {
		if err := os.RemoveAll(m.p.Dir); err != nil {
			logf("removing container: %v", err)
		}
		unlock()
	}
}
