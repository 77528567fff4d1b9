package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nerd-project/nerd/internal/cli/opts"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/volume"
)

// volumeSession is a create's hold on the volume store: the store's lock,
// taken before the mounts are resolved and released after the container
// record is in place, so that `volume rm`/`prune` (which check the records
// under the same lock) never delete a volume a new container is about to
// use. Volumes it created are removed again if the create fails.
type volumeSession struct {
	tx      *volume.Tx
	created []string
	copyUps []copyUp
}

// copyUp is a volume to fill from the image at dest.
type copyUp struct {
	vol  *volume.Volume
	dest string
}

// beginVolumes locks the volume store and resolves rec's mounts into
// rec.MountPoints: --volumes-from, then -v and --mount (which replace an
// inherited mount on the same path), then an anonymous volume for each
// image VOLUME nothing else covers. Named volumes that do not exist yet
// are created, as with Docker.
func (e *Engine) beginVolumes(rec *container.Record) (*volumeSession, error) {
	if hc := &rec.HostConfig; len(hc.VolumesFrom) == 0 && len(hc.Binds) == 0 &&
		len(hc.Mounts) == 0 && len(rec.Config.Volumes) == 0 {
		// No mount at all: nothing for volume rm/prune to race with, so
		// creates without volumes do not queue behind each other's lock.
		rec.MountPoints = nil
		return &volumeSession{}, nil
	}
	tx, err := e.volumes.Lock()
	if err != nil {
		return nil, err
	}
	s := &volumeSession{tx: tx}
	if err := s.plan(e, rec); err != nil {
		s.end(false)
		return nil, err
	}
	return s, nil
}

// end releases the lock; a failed create first removes the volumes it made.
func (s *volumeSession) end(committed bool) {
	if s.tx == nil {
		return
	}
	if !committed {
		for _, n := range s.created {
			_ = s.tx.Remove(n)
		}
	}
	s.tx.Unlock()
}

func (s *volumeSession) plan(e *Engine, rec *container.Record) error {
	hc := &rec.HostConfig
	byDest := map[string]container.MountPoint{}
	for _, ref := range hc.VolumesFrom {
		inherited, err := e.volumesFrom(ref)
		if err != nil {
			return err
		}
		for _, mp := range inherited {
			byDest[mp.Destination] = mp
		}
	}
	// -v and --mount: a path given twice is an error (dockerd's).
	user := map[string]bool{}
	add := func(m container.Mount, mode string, fromVolumeFlag bool) error {
		mp, err := s.mountPoint(m, mode, fromVolumeFlag)
		if err != nil {
			return err
		}
		if user[mp.Destination] {
			return fmt.Errorf("Duplicate mount point: %s", mp.Destination)
		}
		user[mp.Destination] = true
		byDest[mp.Destination] = mp
		return nil
	}
	for _, spec := range hc.Binds {
		m, err := opts.ParseVolume(spec)
		if err != nil {
			return err
		}
		if err := add(m, opts.VolumeMode(spec, m), true); err != nil {
			return err
		}
	}
	for _, m := range hc.Mounts {
		mode := ""
		if m.Type == container.MountTypeVolume {
			mode = "z"
		}
		if err := add(m, mode, false); err != nil {
			return err
		}
	}
	var imageVols []string
	for d := range rec.Config.Volumes {
		imageVols = append(imageVols, d)
	}
	sort.Strings(imageVols)
	for _, d := range imageVols {
		dest := path.Clean(d)
		if _, ok := byDest[dest]; ok {
			continue
		}
		if _, ok := hc.Tmpfs[dest]; ok {
			continue
		}
		mp, err := s.mountPoint(container.Mount{Type: container.MountTypeVolume, Target: dest}, "", false)
		if err != nil {
			return fmt.Errorf("image volume %s: %w", d, err)
		}
		byDest[dest] = mp
	}
	rec.MountPoints = nil
	for _, mp := range byDest {
		rec.MountPoints = append(rec.MountPoints, mp)
	}
	// Parents before children, then by name: a stable order for the spec
	// and for inspect.
	sort.Slice(rec.MountPoints, func(i, j int) bool {
		a, b := rec.MountPoints[i].Destination, rec.MountPoints[j].Destination
		if da, db := strings.Count(a, "/"), strings.Count(b, "/"); da != db {
			return da < db
		}
		return a < b
	})
	return nil
}

// mountPoint validates one -v or --mount value as dockerd does and turns
// it into the record's mount point, creating the volume it names.
func (s *volumeSession) mountPoint(m container.Mount, mode string, fromVolumeFlag bool) (container.MountPoint, error) {
	bad := func(err error) (container.MountPoint, error) {
		return container.MountPoint{}, fmt.Errorf("invalid mount config for type %q: %w", m.Type, err)
	}
	if err := opts.ValidateMountTarget(m.Target); err != nil {
		return bad(err)
	}
	mp := container.MountPoint{InspectMount: container.InspectMount{Type: m.Type, Destination: path.Clean(m.Target), Mode: mode, RW: !m.ReadOnly}}
	switch m.Type {
	case container.MountTypeBind:
		if m.Source == "" {
			return bad(errors.New("field Source must not be empty"))
		}
		if !filepath.IsAbs(m.Source) {
			return bad(fmt.Errorf("invalid mount path: '%s' mount path must be absolute", m.Source))
		}
		mp.Source = filepath.Clean(m.Source)
		mp.Propagation = "rprivate"
		if b := m.BindOptions; b != nil {
			if b.Propagation != "" {
				if !validPropagation(b.Propagation) {
					return bad(fmt.Errorf("invalid propagation mode: %s", b.Propagation))
				}
				mp.Propagation = b.Propagation
			}
			mp.NonRecursive = b.NonRecursive
		}
		if _, err := os.Stat(mp.Source); err != nil {
			if !os.IsNotExist(err) {
				return bad(err)
			}
			// -v creates a missing host directory (Docker's old and
			// still current behaviour); --mount refuses unless asked.
			if !fromVolumeFlag && (m.BindOptions == nil || !m.BindOptions.CreateMountpoint) {
				return bad(fmt.Errorf("bind source path does not exist: %s", mp.Source))
			}
			if err := os.MkdirAll(mp.Source, 0o755); err != nil {
				return bad(err)
			}
		}
	case container.MountTypeTmpfs:
		if m.Source != "" {
			return bad(errors.New("field Source must not be specified"))
		}
		t := container.TmpfsOptions{}
		if m.TmpfsOptions != nil {
			t = *m.TmpfsOptions
		}
		mp.Tmpfs = &t
	case container.MountTypeVolume:
		return s.volumeMountPoint(m, mp)
	default:
		return container.MountPoint{}, fmt.Errorf("mount type unknown: %q", m.Type)
	}
	return mp, nil
}

func (s *volumeSession) volumeMountPoint(m container.Mount, mp container.MountPoint) (container.MountPoint, error) {
	vo := m.VolumeOptions
	if vo == nil {
		vo = &container.VolumeOptions{}
	}
	if vo.Subpath != "" {
		return container.MountPoint{}, fmt.Errorf("invalid mount config for type \"volume\": volume-subpath is not supported")
	}
	if filepath.IsAbs(m.Source) {
		return container.MountPoint{}, fmt.Errorf("invalid mount config for type \"volume\": invalid volume name %q: a volume name cannot be a path", m.Source)
	}
	create := volume.CreateOptions{Name: m.Source, Anonymous: m.Source == "", Labels: vo.Labels}
	if d := vo.DriverConfig; d != nil {
		create.Driver, create.Options = d.Name, d.Options
	}
	var v *volume.Volume
	var err error
	if m.Source != "" {
		v, err = s.tx.Get(m.Source)
	}
	if m.Source == "" || errors.Is(err, volume.ErrNotFound) {
		var created bool
		v, created, err = s.tx.Create(create)
		if created {
			s.created = append(s.created, v.Name)
		}
	}
	if err != nil {
		return container.MountPoint{}, err
	}
	mp.Name, mp.Source, mp.Driver = v.Name, v.Mountpoint, v.Driver
	mp.Anonymous = v.Anonymous()
	if v.HasMountOptions() {
		mp.VolumeOptions = v.Options
	} else if !vo.NoCopy && !v.Populated {
		s.copyUps = append(s.copyUps, copyUp{vol: v, dest: mp.Destination})
	}
	return mp, nil
}

func validPropagation(p string) bool {
	switch p {
	case "private", "rprivate", "shared", "rshared", "slave", "rslave":
		return true
	}
	return false
}

// volumesFrom is --volumes-from ref[:ro|rw]: the other container's mount
// points, read-only or read-write when a mode is given.
func (e *Engine) volumesFrom(spec string) ([]container.MountPoint, error) {
	ref, mode := spec, ""
	if i := strings.LastIndex(spec, ":"); i >= 0 {
		ref, mode = spec[:i], spec[i+1:]
		if mode != "ro" && mode != "rw" {
			return nil, fmt.Errorf("invalid mode: %s", mode)
		}
	}
	c, err := e.Get(ref)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("No such container: %s", ref)
		}
		return nil, err
	}
	out := make([]container.MountPoint, 0, len(c.MountPoints))
	for _, mp := range c.MountPoints {
		if mode != "" {
			mp.RW = mode == "rw"
			mp.Mode = mode
		}
		out = append(out, mp)
	}
	return out, nil
}

// anonymousVolumes are the names of rec's anonymous volumes.
func anonymousVolumes(mps []container.MountPoint) []string {
	var out []string
	for _, mp := range mps {
		if mp.Type == container.MountTypeVolume && mp.Anonymous {
			out = append(out, mp.Name)
		}
	}
	return out
}

// Volumes is the volume store.
func (e *Engine) Volumes() *volume.Store { return e.volumes }

// volumeUsers reads which containers mount which volumes (their records).
func (e *Engine) volumeUsers() (map[string][]string, error) {
	return container.VolumeUsers(e.containersDir())
}

// Remove deletes a container (see removeContainer) and, with
// opts.Volumes, its anonymous volumes that no other container mounts.
// The volumes go after the container's lock is released: the volume lock
// is always taken before a container lock, never inside one.
func (e *Engine) Remove(ctx context.Context, c *Container, opts RemoveOptions) error {
	if err := e.removeContainer(ctx, c, opts); err != nil {
		return err
	}
	if !opts.Volumes {
		return nil
	}
	if err := e.volumes.RemoveUnused(anonymousVolumes(c.MountPoints), c.ID); err != nil {
		return fmt.Errorf("removing volumes of %s: %w", c.ID, err)
	}
	return nil
}

func inspectMounts(mps []container.MountPoint) []any {
	out := make([]any, 0, len(mps))
	for _, mp := range mps {
		out = append(out, mp.InspectMount)
	}
	return out
}
