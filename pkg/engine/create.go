package engine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/nerd-project/nerd/internal/names"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nerd-project/nerd/internal/fsutil"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine/spec"
	"github.com/nerd-project/nerd/pkg/image"
)

// CreateOptions describe a new container. Config and HostConfig hold what
// the user asked for; the image's defaults fill the rest.
type CreateOptions struct {
	Name  string
	Image *image.Image
	// ImageRef is what the user typed (Config.Image in inspect).
	ImageRef   string
	Config     container.Config
	HostConfig container.HostConfig
	// EntrypointSet means --entrypoint was given (even as "").
	EntrypointSet bool
	// Networks are the networks to join with their settings; nil joins
	// HostConfig.NetworkMode (default "bridge") when it is a network.
	Networks map[string]*container.EndpointConfig
}

// validName is Docker's container name rule; a leading "/" is allowed.
func validName(name string) bool { return names.Valid(strings.TrimPrefix(name, "/"), 2) }

// Create writes a new container (record, OCI spec, rootfs dirs) and returns
// it in state "created". The directory is assembled under a temporary name
// and renamed into place, so a kill -9 leaves either no container or a
// complete one.
func (e *Engine) Create(opts CreateOptions) (*Container, error) {
	if opts.Name != "" && !validName(opts.Name) {
		return nil, fmt.Errorf("Invalid container name (%s), only %s are allowed", opts.Name, names.Allowed)
	}
	opts.Name = strings.TrimPrefix(opts.Name, "/")
	id, err := newID()
	if err != nil {
		return nil, err
	}
	rec := e.newRecord(id, opts)
	if err := e.prepareNetworks(rec, opts.Networks); err != nil {
		return nil, err
	}
	// Refuse bad settings before anything is written, and store Docker's
	// defaults (swap = 2×memory, 64 MiB /dev/shm …) so inspect shows them.
	if err := spec.Validate(&rec.HostConfig, spec.DetectHost()); err != nil {
		return nil, err
	}
	final := e.Paths(id)
	tmpDir := filepath.Join(e.containersDir(), ".tmp-"+id)
	if err := os.MkdirAll(tmpDir, 0o710); err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmpDir)
		}
	}()
	vols, err := e.beginVolumes(rec)
	if err != nil {
		return nil, err
	}
	defer func() { vols.end(committed) }()
	tmp := container.Paths{Dir: tmpDir, RunDir: final.RunDir, ID: id}
	for _, d := range []string{tmp.Upper(), tmp.Work(), tmp.Rootfs()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := e.writeNetworkFiles(tmpDir, rec); err != nil {
		return nil, err
	}
	var lowers []string
	for i := len(rec.Snapshots) - 1; i >= 0; i-- {
		lowers = append(lowers, filepath.Join(rec.SnapshotRoot, rec.Snapshots[i], "fs"))
	}
	if err := vols.copyUp(lowers, filepath.Join(tmpDir, "copyup")); err != nil {
		return nil, err
	}
	in := spec.Input{
		Record:       rec,
		Rootfs:       final.Rootfs(),
		LowerDirs:    lowers,
		ContainerDir: final.Dir,
		StagingDir:   tmpDir,
		CgroupParent: "/nerd",
		InitPath:     initPathFor(&rec.HostConfig),
	}
	if err := e.networkSpec(&in); err != nil {
		return nil, err
	}
	s, err := spec.Generate(in)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFileAtomic(tmp.Spec(), data, 0o644); err != nil {
		return nil, err
	}
	if err := container.WriteState(tmp, &container.State{Status: container.StatusCreated}); err != nil {
		return nil, err
	}

	l, err := e.namesLock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if opts.Name == "" {
		if rec.Name, err = e.generateName(); err != nil {
			return nil, err
		}
	} else if other := e.nameOwner(opts.Name); other != "" {
		return nil, fmt.Errorf("%w. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.",
			ErrConflict, opts.Name, other)
	}
	if err := container.WriteRecord(tmp, rec); err != nil {
		return nil, err
	}
	if err := e.claimName(rec.Name, id); err != nil {
		return nil, err
	}
	if err := os.Rename(tmpDir, final.Dir); err != nil {
		e.releaseName(rec.Name, id)
		return nil, fmt.Errorf("creating container %s: %w", id, err)
	}
	committed = true
	return &Container{Record: rec, State: &container.State{Status: container.StatusCreated}, Paths: final}, nil
}

// newRecord merges the user's settings over the image's defaults the way
// Docker does.
func (e *Engine) newRecord(id string, opts CreateOptions) *container.Record {
	img := opts.Image
	ic := img.Config.Config
	cfg := opts.Config
	cfg.Image = opts.ImageRef
	if !opts.EntrypointSet {
		cfg.Entrypoint = ic.Entrypoint
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = ic.Cmd
		}
	}
	cfg.Env = spec.MergeImageEnv(ic.Env, cfg.Env)
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = ic.WorkingDir
	}
	if cfg.User == "" {
		cfg.User = ic.User
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = ic.StopSignal
	}
	labels := map[string]string{}
	for k, v := range ic.Labels {
		labels[k] = v
	}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	cfg.Labels = labels
	if len(ic.ExposedPorts) > 0 {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for p := range ic.ExposedPorts {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	if len(ic.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
		for v := range ic.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	}
	if cfg.Hostname == "" {
		cfg.Hostname = id[:12]
	}
	hc := opts.HostConfig
	if hc.RestartPolicy.Name == "" {
		hc.RestartPolicy.Name = "no"
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file"
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	if hc.NetworkMode == "" {
		hc.NetworkMode = DefaultNetworkMode()
	}
	rec := &container.Record{
		ID:           id,
		Name:         opts.Name,
		Created:      time.Now().UTC(),
		Image:        opts.ImageRef,
		ImageID:      img.ID.String(),
		Config:       cfg,
		HostConfig:   hc,
		SnapshotRoot: e.images.Snapshots().Root(),
	}
	args := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(args) > 0 {
		rec.Path, rec.Args = args[0], args[1:]
	}
	if rec.Args == nil {
		rec.Args = []string{}
	}
	for _, k := range img.ChainIDs() {
		rec.Snapshots = append(rec.Snapshots, k.Encoded())
	}
	return rec
}

// initPathFor looks for the init binary only when --init asks for it.
func initPathFor(hc *container.HostConfig) string {
	if hc.Init == nil || !*hc.Init {
		return ""
	}
	return initBinary()
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
