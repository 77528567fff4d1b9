package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
)

// The name index maps container names to IDs with one symlink per name,
// containers/.names/<name> -> <id>, so that `run --name`, generated names
// and lookups by name read one link and one record instead of every
// container's files.
//
// The records stay the truth: a link counts only while the record it
// points to exists and still carries that name. So a crash at any point of
// create, rename or rm leaves at worst a stale link, which reads as "free"
// and is replaced on the next claim; changes happen under the names lock.

func (e *Engine) namesDir() string { return filepath.Join(e.containersDir(), ".names") }

// nameOwner returns the ID of the container called name, or "".
func (e *Engine) nameOwner(name string) string {
	if !validName(name) {
		return "" // also keeps "../x" out of the index directory
	}
	id, err := os.Readlink(filepath.Join(e.namesDir(), name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && e.hasNameIndex() {
			return ""
		}
		return e.scanNameOwner(name)
	}
	if rec, err := container.ReadRecord(e.Paths(id)); err == nil && rec.Name == name {
		return id
	}
	return ""
}

// claimName points name at id; the caller holds the names lock and has
// checked that the name is free.
func (e *Engine) claimName(name, id string) error {
	if err := e.ensureNameIndex(); err != nil {
		return err
	}
	link := filepath.Join(e.namesDir(), name)
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("claiming container name %s: %w", name, err)
	}
	if err := os.Symlink(id, link); err != nil {
		return fmt.Errorf("claiming container name %s: %w", name, err)
	}
	return nil
}

// releaseName drops name's link if it still points at id.
func (e *Engine) releaseName(name, id string) {
	link := filepath.Join(e.namesDir(), name)
	if target, err := os.Readlink(link); err == nil && target == id {
		_ = os.Remove(link)
	}
}

func (e *Engine) hasNameIndex() bool {
	_, err := os.Stat(e.namesDir())
	return err == nil
}

// ensureNameIndex builds the index from the records when a data root made
// before it has none; the caller holds the names lock. It is built aside
// and renamed into place, so it is either complete or absent.
func (e *Engine) ensureNameIndex() error {
	if e.hasNameIndex() {
		return nil
	}
	tmp := e.namesDir() + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("building the container name index: %w", err)
	}
	for _, id := range e.recordIDs() {
		rec, err := container.ReadRecord(e.Paths(id))
		if err != nil || rec.Name == "" {
			continue
		}
		if err := os.Symlink(id, filepath.Join(tmp, rec.Name)); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("building the container name index: %w", err)
		}
	}
	if err := os.Rename(tmp, e.namesDir()); err != nil {
		return fmt.Errorf("building the container name index: %w", err)
	}
	return nil
}

// scanNameOwner is the lookup without an index: every record.
func (e *Engine) scanNameOwner(name string) string {
	for _, id := range e.recordIDs() {
		if rec, err := container.ReadRecord(e.Paths(id)); err == nil && rec.Name == name {
			return id
		}
	}
	return ""
}

// recordIDs lists the container directories (IDs), skipping the hidden
// ones: the index, containers being created (.tmp-*) and removed (.rm-*).
func (e *Engine) recordIDs() []string {
	entries, err := os.ReadDir(e.containersDir())
	if err != nil {
		return nil
	}
	var ids []string
	for _, ent := range entries {
		if ent.IsDir() && !strings.HasPrefix(ent.Name(), ".") {
			ids = append(ids, ent.Name())
		}
	}
	return ids
}
