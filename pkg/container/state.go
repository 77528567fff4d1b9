package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nerd-project/nerd/internal/fsutil"
)

// Status values, Docker's state enum.
const (
	StatusCreated    = "created"
	StatusRunning    = "running"
	StatusPaused     = "paused"
	StatusRestarting = "restarting"
	StatusRemoving   = "removing"
	StatusExited     = "exited"
	StatusDead       = "dead"
)

// State is a container's runtime state, <dir>/state.json. The monitor owns
// it while it lives (it writes every transition); the CLI writes it only
// when no monitor runs (create, or reconciling a dead monitor), always
// under <dir>/lock.
type State struct {
	Status     string    `json:"Status"`
	Pid        int       `json:"Pid"`
	ExitCode   int       `json:"ExitCode"`
	Error      string    `json:"Error"`
	OOMKilled  bool      `json:"OOMKilled"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	// RestartCount counts restarts by the restart policy since the last
	// user start.
	RestartCount int `json:"RestartCount"`
	// ManuallyStopped is set by stop/kill: policies other than "always"…
	// (see Docker) do not bring the container back until a user starts it.
	ManuallyStopped bool `json:"ManuallyStopped"`

	// Monitor identifies the nerd-shim process so a crashed or rebooted
	// monitor is detected: pid + its start time (clock ticks since boot
	// from /proc/<pid>/stat) + the boot id.
	MonitorPid       int    `json:"MonitorPid"`
	MonitorStartTime uint64 `json:"MonitorStartTime"`
	BootID           string `json:"BootID"`
}

// Running reports a status in which a monitor must be alive.
func (s *State) Running() bool {
	return s.Status == StatusRunning || s.Status == StatusPaused || s.Status == StatusRestarting
}

// Paths names the files of one container.
type Paths struct {
	// Dir is <data-root>/containers/<id>.
	Dir string
	// RunDir is the runtime directory for sockets and libcontainer state:
	// /run/nerd/<hash of data root> (see RuntimeDir).
	RunDir string
	ID     string
}

func (p Paths) Record() string   { return filepath.Join(p.Dir, "container.json") }
func (p Paths) Spec() string     { return filepath.Join(p.Dir, "config.json") }
func (p Paths) State() string    { return filepath.Join(p.Dir, "state.json") }
func (p Paths) Lock() string     { return filepath.Join(p.Dir, "lock") }
func (p Paths) Log() string      { return filepath.Join(p.Dir, p.ID+"-json.log") }
func (p Paths) Rootfs() string   { return filepath.Join(p.Dir, "rootfs") }
func (p Paths) Upper() string    { return filepath.Join(p.Dir, "upper") }
func (p Paths) Work() string     { return filepath.Join(p.Dir, "work") }
func (p Paths) Socket() string   { return filepath.Join(p.RunDir, p.ID+".sock") }
func (p Paths) RuncRoot() string { return filepath.Join(p.RunDir, "runc") }

// ReadRecord reads container.json.
func ReadRecord(p Paths) (*Record, error) {
	var r Record
	if err := readJSON(p.Record(), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// WriteRecord replaces container.json atomically.
func WriteRecord(p Paths, r *Record) error { return writeJSON(p.Record(), r) }

// ReadState reads state.json; a missing file reads as "created".
func ReadState(p Paths) (*State, error) {
	var s State
	err := readJSON(p.State(), &s)
	if errors.Is(err, os.ErrNotExist) {
		return &State{Status: StatusCreated}, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// WriteState replaces state.json atomically.
func WriteState(p Paths, s *State) error { return writeJSON(p.State(), s) }

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, data, 0o644)
}
