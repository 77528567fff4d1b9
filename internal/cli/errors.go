package cli

import (
	"errors"
	"fmt"
)

// StatusError carries the process exit code a failure maps to, as the
// Docker CLI's cli.StatusError does.
type StatusError struct {
	Status string
	Code   int
	// Usage marks a command-line mistake; the CLI adds a --help hint.
	Usage bool
}

func (e *StatusError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Status
}

// FlagError marks bad command-line usage; Docker exits 125 for it.
func FlagError(err error) error {
	return &StatusError{Status: err.Error(), Code: 125, Usage: true}
}

// IsUsage reports a command-line mistake.
func IsUsage(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Usage
}

// ExitCode maps an error returned by a command to the process exit code:
// a StatusError's code, else 1 (Docker's getExitCode).
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 1
}
