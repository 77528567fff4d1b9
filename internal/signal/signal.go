// Package signal parses signal names and numbers the way Docker does, for
// the CLI (kill -s, --stop-signal) and the engine (a container's stop
// signal) alike.
package signal

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Parse parses a signal as Docker does: a number, or a name with or
// without "SIG" in any case, including RTMIN+n and RTMAX-n.
func Parse(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > sigRTMax {
			return -1, fmt.Errorf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if sig, ok := realtimeSignal(name); ok {
		return sig, nil
	}
	if alias, ok := signalAliases[name]; ok {
		name = alias
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return -1, fmt.Errorf("invalid signal: %s", s)
}

// signalAliases are names in Docker's signal map that x/sys/unix lists
// under another name.
var signalAliases = map[string]string{"CLD": "CHLD", "IOT": "ABRT", "POLL": "IO"}

// Linux's realtime signal range as glibc exposes it (the first two are
// taken by NPTL).
const (
	sigRTMin = 34
	sigRTMax = 64
)

func realtimeSignal(name string) (syscall.Signal, bool) {
	base, sign := 0, 1
	rest := ""
	switch {
	case strings.HasPrefix(name, "RTMIN"):
		base, rest = sigRTMin, strings.TrimPrefix(name, "RTMIN")
	case strings.HasPrefix(name, "RTMAX"):
		base, rest, sign = sigRTMax, strings.TrimPrefix(name, "RTMAX"), -1
	default:
		return 0, false
	}
	if rest == "" {
		return syscall.Signal(base), true
	}
	want := "+"
	if sign < 0 {
		want = "-"
	}
	if !strings.HasPrefix(rest, want) {
		return 0, false
	}
	n, err := strconv.Atoi(rest[1:])
	if err != nil || n < 1 || n > sigRTMax-sigRTMin-1 {
		return 0, false
	}
	return syscall.Signal(base + sign*n), true
}
