package opts

import (
	"errors"
	"fmt"
	"github.com/nerd-project/nerd/internal/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/nerd-project/nerd/pkg/container"
)

// Restart policy names (Docker's).
const (
	RestartNo            = "no"
	RestartAlways        = "always"
	RestartOnFailure     = "on-failure"
	RestartUnlessStopped = "unless-stopped"
)

// ParseRestartPolicy parses --restart ("name[:max-retries]") and validates
// it. The Docker CLI only checks the syntax and leaves the rest to dockerd;
// nerd has no daemon, so both checks happen here, with both texts. "" is
// "no".
func ParseRestartPolicy(s string) (container.RestartPolicy, error) {
	if s == "" {
		return container.RestartPolicy{Name: RestartNo}, nil
	}
	name, count, hasCount := strings.Cut(s, ":")
	if hasCount && name == "" {
		return container.RestartPolicy{}, errors.New("invalid restart policy format: no policy provided before colon")
	}
	p := container.RestartPolicy{Name: name}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return container.RestartPolicy{}, errors.New("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	switch p.Name {
	case RestartNo, RestartAlways, RestartUnlessStopped:
		if p.MaximumRetryCount != 0 {
			msg := "invalid restart policy: maximum retry count can only be used with 'on-failure'"
			if p.MaximumRetryCount < 0 {
				msg += " and cannot be negative"
			}
			return container.RestartPolicy{}, errors.New(msg)
		}
	case RestartOnFailure:
		if p.MaximumRetryCount < 0 {
			return container.RestartPolicy{}, errors.New("invalid restart policy: maximum retry count cannot be negative")
		}
	default:
		return container.RestartPolicy{}, fmt.Errorf("invalid restart policy: unknown policy '%s'; use one of '%s', '%s', '%s', or '%s'",
			p.Name, RestartNo, RestartAlways, RestartOnFailure, RestartUnlessStopped)
	}
	return p, nil
}

// RestartPolicy is the --restart flag; its zero value is "no".
type RestartPolicy struct {
	p container.RestartPolicy
}

// Set parses and validates v.
func (r *RestartPolicy) Set(v string) error {
	p, err := ParseRestartPolicy(v)
	if err != nil {
		return err
	}
	r.p = p
	return nil
}

func (r *RestartPolicy) String() string {
	p := r.Value()
	if p.MaximumRetryCount > 0 {
		return p.Name + ":" + strconv.Itoa(p.MaximumRetryCount)
	}
	return p.Name
}

// Type is what --help shows.
func (r *RestartPolicy) Type() string { return "string" }

// Value is the parsed policy.
func (r *RestartPolicy) Value() container.RestartPolicy {
	if r.p.Name == "" {
		return container.RestartPolicy{Name: RestartNo}
	}
	return r.p
}

// ValidateAutoRemove rejects --rm with a restart policy, as Docker does.
func ValidateAutoRemove(autoRemove bool, p container.RestartPolicy) error {
	if autoRemove && p.Name != "" && p.Name != RestartNo {
		return errors.New("conflicting options: cannot specify both --restart and --rm")
	}
	return nil
}

// ParseSignal parses a signal as Docker does (see internal/signal).
func ParseSignal(s string) (syscall.Signal, error) { return signal.Parse(s) }

// StopSignal is --stop-signal: kept as typed (Docker stores the string)
// once it parses.
type StopSignal string

// Set validates v.
func (s *StopSignal) Set(v string) error {
	if _, err := ParseSignal(v); err != nil {
		return err
	}
	*s = StopSignal(v)
	return nil
}

func (s *StopSignal) String() string { return string(*s) }

// Type is what --help shows.
func (s *StopSignal) Type() string { return "string" }

// PidsLimit is --pids-limit; Value is nil unless the flag was given (0 and
// -1 mean unlimited, as in Docker).
type PidsLimit struct {
	v   int64
	set bool
}

// Set parses v as an integer, with the error pflag's int flags give.
func (p *PidsLimit) Set(v string) error {
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil {
		return err
	}
	p.v, p.set = n, true
	return nil
}

func (p *PidsLimit) String() string { return strconv.FormatInt(p.v, 10) }

// Type is what --help shows.
func (p *PidsLimit) Type() string { return "int" }

// Value is the limit, nil when not set.
func (p *PidsLimit) Value() *int64 {
	if !p.set {
		return nil
	}
	v := p.v
	return &v
}
