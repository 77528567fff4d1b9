package opts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParseSecurityOpts checks --security-opt values like the Docker CLI and,
// for seccomp=FILE, replaces the path by the profile's compacted JSON: the
// container keeps the profile it was created with even if the file later
// changes or disappears, and inspect shows it as Docker's does.
func ParseSecurityOpts(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, opt := range list {
		k, v, ok := strings.Cut(opt, "=")
		if !ok && k != "no-new-privileges" {
			k, v, ok = strings.Cut(opt, ":")
		}
		if (!ok || v == "") && k != "no-new-privileges" {
			return nil, fmt.Errorf("invalid --security-opt: %q", opt)
		}
		if k == "seccomp" && v != "builtin" && v != "unconfined" {
			b, err := os.ReadFile(v)
			if err != nil {
				return nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", v, err)
			}
			var c bytes.Buffer
			if err := json.Compact(&c, b); err != nil {
				return nil, fmt.Errorf("compacting json for seccomp profile (%s) failed: %w", v, err)
			}
			opt = "seccomp=" + c.String()
		}
		out = append(out, opt)
	}
	return out, nil
}

// ValidatePidMode accepts "", "host" and "container:NAME" (Docker CLI's
// message).
func ValidatePidMode(mode string) error {
	if mode == "" || mode == "host" || containerMode(mode) {
		return nil
	}
	return errors.New("--pid: invalid PID mode")
}

// ValidateUTSMode accepts "" and "host" (Docker CLI's message).
func ValidateUTSMode(mode string) error {
	if mode == "" || mode == "host" {
		return nil
	}
	return errors.New("--uts: invalid UTS mode")
}

// ValidateIpcMode accepts Docker's IPC modes (dockerd's message).
func ValidateIpcMode(mode string) error {
	switch mode {
	case "", "none", "private", "shareable", "host":
		return nil
	}
	if containerMode(mode) {
		return nil
	}
	return fmt.Errorf("invalid IPC mode: %s", mode)
}

func containerMode(mode string) bool {
	name, ok := strings.CutPrefix(mode, "container:")
	return ok && name != ""
}
