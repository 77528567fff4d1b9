package container

// The monitor protocol: how the engine and CLI talk to a container's
// nerd-shim over its unix socket (Paths.Socket). One request per
// connection: the client writes one JSON line (Request), the monitor
// answers with one JSON line (Response); attach and exec then switch the
// connection to frames (WriteFrame/ReadFrame).
//
// The monitor records every state transition under Paths.Lock before it
// answers, so a client must never hold that lock while it waits for an
// answer (or for the exit of the container).

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Request ops.
const (
	// OpKill signals the container's init (Signal, Manual).
	OpKill = "kill"
	// OpWait answers once the container has exited for good (not while
	// the restart policy brings it back) with ExitCode.
	OpWait = "wait"
	// OpAttach streams the container's stdio (Stdin, Stdout, Stderr).
	OpAttach = "attach"
	// OpExec runs Process in the container (Stdin, Detach).
	OpExec = "exec"
	// OpPause and OpResume freeze and thaw the container.
	OpPause  = "pause"
	OpResume = "resume"
	// OpUpdate applies Resources to the running container's cgroup.
	OpUpdate = "update"
	// OpRestartPolicy replaces the restart policy the monitor applies.
	OpRestartPolicy = "restartpolicy"
)

// Request is the one JSON line a client sends.
type Request struct {
	Op string `json:"op"`

	// Signal and Manual are for kill. Manual marks the container manually
	// stopped (a user's stop or kill), so the restart policy leaves it
	// down; a signal forwarded by an attached CLI (--sig-proxy) is not
	// manual.
	Signal int  `json:"signal,omitempty"`
	Manual bool `json:"manual,omitempty"`

	// Stdin, Stdout and Stderr select the attached streams; exec uses
	// Stdin only (its output is always streamed unless Detach).
	Stdin  bool `json:"stdin,omitempty"`
	Stdout bool `json:"stdout,omitempty"`
	Stderr bool `json:"stderr,omitempty"`

	// Process is the exec'd process. Args, Env, Cwd, User and Terminal
	// are taken as given (the engine resolves -u and merges the
	// container's environment); an empty Env or Cwd falls back to the
	// container's; Capabilities nil keeps the container's set; rlimits,
	// no-new-privileges and the other security settings are the
	// container's, as in Docker.
	Process *specs.Process `json:"process,omitempty"`
	// Detach starts the exec'd process without streaming its stdio
	// (exec -d): the answer carries its Pid.
	Detach bool `json:"detach,omitempty"`

	// Resources are the container's new cgroup limits (update): the
	// whole set, as the OCI spec would carry it.
	Resources *specs.LinuxResources `json:"resources,omitempty"`

	// RestartPolicy is the new policy (update --restart).
	RestartPolicy *RestartPolicy `json:"restartPolicy,omitempty"`
}

// Response is the monitor's one JSON line answer.
type Response struct {
	OK bool `json:"ok,omitempty"`
	// Error says why the request failed. NotRunning marks the failures
	// that happen because the container is not running (ErrNotRunning on
	// the client side); Code is 126 or 127 when an exec'd process could
	// not be invoked or was not found, as Docker's exit codes.
	Error      string `json:"error,omitempty"`
	NotRunning bool   `json:"notRunning,omitempty"`
	Code       int    `json:"code,omitempty"`
	// ExitCode answers wait.
	ExitCode *int `json:"exitCode,omitempty"`
	// Pid is the exec'd process (exec).
	Pid int `json:"pid,omitempty"`
}

// StartResult is the JSON line the monitor writes on its fd 3 once the
// container's process runs (Pid), or could not be started (Error, with
// Code 127 when the command was not found, 126 when it could not be
// invoked, else 125). state.json is written before it, so a client that
// reads the state after the result sees "running" (or "exited").
type StartResult struct {
	Pid   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
	Code  int    `json:"code,omitempty"`
}

// Stream ids of the framed part of attach and exec. A frame is one byte of
// stream id, a 4-byte big-endian payload length and the payload.
const (
	// StreamStdin carries client input; a zero-length frame closes the
	// process's stdin (for attach only when Config.StdinOnce, as in
	// Docker).
	StreamStdin byte = 0
	// StreamStdout and StreamStderr carry output; with a terminal all
	// output is on StreamStdout.
	StreamStdout byte = 1
	StreamStderr byte = 2
	// StreamResize carries a Resize (client to monitor).
	StreamResize byte = 3
	// StreamExit carries an ExitStatus (monitor to client) once the
	// container exited for good (attach) or the exec'd process exited;
	// the monitor closes the connection after it.
	StreamExit byte = 4
)

// MaxFrame bounds a frame's payload, so a corrupt length cannot make a
// reader allocate gigabytes.
const MaxFrame = 1 << 20

// Resize is the payload of a StreamResize frame.
type Resize struct {
	Height uint16 `json:"h"`
	Width  uint16 `json:"w"`
}

// ExitStatus is the payload of a StreamExit frame.
type ExitStatus struct {
	ExitCode int `json:"exitCode"`
}

// ErrFrameTooLarge is returned by ReadFrame for a length above MaxFrame.
var ErrFrameTooLarge = errors.New("monitor protocol: frame too large")

// AppendFrame appends one frame to dst, so a writer can send header and
// payload in a single write (frames of concurrent writers never
// interleave as long as each write is serialised).
func AppendFrame(dst []byte, id byte, payload []byte) []byte {
	dst = append(dst, id, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[len(dst)-4:], uint32(len(payload)))
	return append(dst, payload...)
}

// WriteFrame writes one frame in a single Write.
func WriteFrame(w io.Writer, id byte, payload []byte) error {
	_, err := w.Write(AppendFrame(make([]byte, 0, 5+len(payload)), id, payload))
	return err
}

// ReadFrame reads one frame. The payload is read into buf when it fits
// (buf is reused by the caller), else into a new slice.
func ReadFrame(r io.Reader, buf []byte) (id byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("%w (%d bytes)", ErrFrameTooLarge, n)
	}
	if int(n) <= cap(buf) {
		payload = buf[:n]
	} else {
		payload = make([]byte, n)
	}
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// ExitFrame is the payload of a StreamExit frame for code.
func ExitFrame(code int) []byte {
	b, _ := json.Marshal(ExitStatus{ExitCode: code})
	return b
}
