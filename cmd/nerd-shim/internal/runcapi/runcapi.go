// Package runcapi is the contract between the monitor (nerd-shim) and
// its libcontainer half (nerd-shim-runc).
//
// The monitor stays alive for the whole life of a container, so its memory
// is what an idle container costs. Linking libcontainer (and its cgo,
// seccomp, netlink, ebpf and dbus dependencies) roughly doubles a Go
// process's resident memory, so the monitor does not: it runs
// nerd-shim-runc, a short-lived child, for every libcontainer operation.
// The container's init (and every exec'd process) is a child of that
// helper; when the helper exits they are re-parented to the monitor, which
// is a child subreaper, so the monitor still reaps them and learns their
// exit codes.
//
// Invocation: nerd-shim-runc OP, with fds 0-2 the process's stdio
// (/dev/null with a terminal), fd 3 the request (one JSON Request), fd 4
// the result (one JSON Result) and, with a terminal, fd 5 the console
// socket that receives the pty master.
package runcapi

import (
	"encoding/json"
	"strings"
)

// Ops.
const (
	OpStart   = "start"   // create the container from Bundle/config.json and run its init
	OpExec    = "exec"    // run Process in the running container
	OpPause   = "pause"   // freeze
	OpResume  = "resume"  // thaw
	OpUpdate  = "update"  // apply Resources
	OpDestroy = "destroy" // remove cgroups and state (runs poststop hooks)
)

// The helper's file descriptors.
const (
	FdRequest = 3
	FdResult  = 4
	FdConsole = 5
)

// Request is what the helper reads on FdRequest.
type Request struct {
	// Root is the libcontainer state root, ID the container's id.
	Root string `json:"root"`
	ID   string `json:"id"`
	// Bundle is the container directory holding config.json.
	Bundle string `json:"bundle"`
	// Console says a console socket is at FdConsole (the process has a
	// terminal).
	Console bool `json:"console,omitempty"`
	// Process is the exec'd process (OpExec), a specs.Process, and
	// Resources the container's new cgroup limits (OpUpdate), a
	// specs.LinuxResources. They stay raw JSON: the monitor passes on what
	// its client sent, and building JSON codecs for those large types
	// would cost the long-lived monitor tens of KiB.
	Process   json.RawMessage `json:"process,omitempty"`
	Resources json.RawMessage `json:"resources,omitempty"`
	// NoTerminal overrides Process.Terminal (a detached exec has nobody
	// to hold its terminal).
	NoTerminal bool `json:"noTerminal,omitempty"`
}

// Result is what the helper writes on FdResult.
type Result struct {
	Pid int `json:"pid,omitempty"`
	// CgroupPaths are the container's cgroup directories by controller
	// ("" for the unified hierarchy), for OOM accounting.
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	Error       string            `json:"error,omitempty"`
	// Code is 127 (not found) or 126 (cannot invoke) when the process
	// could not be executed, else 125 with Error.
	Code int `json:"code,omitempty"`
	// NotRunning marks an error due to a stopped container.
	NotRunning bool `json:"notRunning,omitempty"`
}

// Classify turns a libcontainer start error into Docker's message and exit
// code. libcontainer wraps the error of the init's exec.LookPath of the
// entrypoint ("unable to start container process: error during container
// init: exec: \"foo\": executable file not found in $PATH"); Docker shows
// that innermost part and exits 127 when the command is missing, 126 when
// it cannot be invoked.
func Classify(msg string) (string, int) {
	i := strings.LastIndex(msg, `exec: "`)
	if i < 0 {
		return msg, 125
	}
	inner := msg[i:]
	switch {
	case strings.Contains(inner, "executable file not found"),
		strings.Contains(inner, "no such file or directory"):
		return inner, 127
	case strings.Contains(inner, "permission denied"),
		strings.Contains(inner, "is a directory"):
		return inner, 126
	}
	return msg, 125
}
