// Package opts parses the values of Docker's run/create/update flags with
// Docker's rules and error texts. Flag types implement pflag.Value, so a bad
// value fails inside flag parsing and cobra reports it as a flag error
// (exit 125): `invalid argument "foo" for "-m, --memory" flag: invalid
// size: 'foo'`. Everything else is a pure function.
package opts

import (
	"errors"
	"fmt"
	"math/big"
	"runtime"

	"github.com/docker/go-units"
)

// ParseMemory parses a human size ("512m", "1g", "1024") into bytes, with
// binary units like Docker's --memory.
func ParseMemory(s string) (int64, error) {
	return units.RAMInBytes(s)
}

// MemBytes is a size flag (--memory, --memory-reservation).
type MemBytes int64

// Set parses v; on error the value is unchanged.
func (m *MemBytes) Set(v string) error {
	n, err := ParseMemory(v)
	if err != nil {
		return err
	}
	*m = MemBytes(n)
	return nil
}

// String shows the size the way Docker does; "0" keeps pflag from printing
// a "(default 0 B)".
func (m *MemBytes) String() string {
	if *m == 0 {
		return "0"
	}
	return units.BytesSize(float64(*m))
}

// Type is what --help shows.
func (m *MemBytes) Type() string { return "bytes" }

// Value is the size in bytes.
func (m *MemBytes) Value() int64 { return int64(*m) }

// MemSwapBytes is --memory-swap: a size, or -1 for unlimited swap.
type MemSwapBytes int64

// Set parses v; "-1" means unlimited.
func (m *MemSwapBytes) Set(v string) error {
	if v == "-1" {
		*m = -1
		return nil
	}
	n, err := ParseMemory(v)
	if err != nil {
		return err
	}
	*m = MemSwapBytes(n)
	return nil
}

func (m *MemSwapBytes) String() string {
	if *m == -1 {
		return "-1"
	}
	b := MemBytes(*m)
	return b.String()
}

// Type is what --help shows.
func (m *MemSwapBytes) Type() string { return "bytes" }

// Value is the size in bytes, or -1.
func (m *MemSwapBytes) Value() int64 { return int64(*m) }

// ShmSize is --shm-size (0 lets the engine apply Docker's 64 MiB).
type ShmSize int64

// Set parses v like --memory.
func (s *ShmSize) Set(v string) error {
	n, err := ParseMemory(v)
	if err != nil {
		return err
	}
	*s = ShmSize(n)
	return nil
}

func (s *ShmSize) String() string {
	b := MemBytes(*s)
	return b.String()
}

// Type is what --help shows.
func (s *ShmSize) Type() string { return "bytes" }

// Value is the size in bytes.
func (s *ShmSize) Value() int64 { return int64(*s) }

// numCPU is how many CPUs --cpus may use (the CPUs this process may run
// on, like dockerd's sysinfo.NumCPU); a variable for tests.
var numCPU = runtime.NumCPU

// NanoCPUs is --cpus: a decimal number of CPUs, stored in billionths.
type NanoCPUs int64

// Set parses v and checks it against the CPUs of this machine. dockerd
// does the range check when the container is created; doing it here makes
// `--cpus -1` a flag error like other bad values.
func (c *NanoCPUs) Set(v string) error {
	n, err := ParseCPUs(v)
	if err != nil {
		return err
	}
	ncpu := int64(numCPU())
	// Below 0.01 the CFS quota would be under the kernel's 1 ms minimum.
	if n < 0 || n > ncpu*1e9 || (n > 0 && n < 1e7) {
		return fmt.Errorf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", ncpu, ncpu)
	}
	*c = NanoCPUs(n)
	return nil
}

func (c *NanoCPUs) String() string {
	if *c == 0 {
		return ""
	}
	return big.NewRat(int64(*c), 1e9).FloatString(3)
}

// Type is what --help shows.
func (c *NanoCPUs) Type() string { return "decimal" }

// Value is the number of CPUs in billionths.
func (c *NanoCPUs) Value() int64 { return int64(*c) }

// ParseCPUs parses a decimal number of CPUs ("1.5") into billionths, with
// the Docker CLI's errors.
func ParseCPUs(v string) (int64, error) {
	r, ok := new(big.Rat).SetString(v)
	if !ok {
		return 0, fmt.Errorf("failed to parse %v as a rational number", v)
	}
	nano := r.Mul(r, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return 0, errors.New("value is too precise")
	}
	if !nano.Num().IsInt64() {
		return 0, fmt.Errorf("failed to parse %v as a rational number", v)
	}
	return nano.Num().Int64(), nil
}
