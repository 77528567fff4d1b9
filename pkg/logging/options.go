package logging

import (
	"fmt"
	"sort"
	"strconv"

	units "github.com/docker/go-units"
)

// Options configures rotation, like Docker's --log-opt max-size/max-file.
type Options struct {
	// MaxSize is the size in bytes at which the current file is rotated;
	// 0 means unlimited.
	MaxSize int64
	// MaxFiles is the number of files kept, including the current one.
	// Values <= 1 keep no rotated files (the current file is replaced).
	MaxFiles int
}

// ParseOptions validates --log-opt values for the json-file driver the way
// dockerd does (ValidateLogOpt, then jsonfilelog.New): the same accepted
// keys, the same parsing and the same error texts.
func ParseOptions(opts map[string]string) (Options, error) {
	// Docker ranges over a map, so with several bad keys it names a random
	// one; sorting makes our error deterministic.
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag":
		default:
			return Options{}, fmt.Errorf("unknown log opt '%s' for json-file log driver", k)
		}
	}

	o := Options{MaxFiles: 1}
	if v, ok := opts["max-size"]; ok {
		// Docker uses FromHumanSize here, not RAMInBytes: "10m" is
		// 10,000,000 bytes. Matching it keeps rotated file sizes identical.
		n, err := units.FromHumanSize(v)
		if err != nil {
			return Options{}, err
		}
		if n <= 0 {
			return Options{}, fmt.Errorf("max-size must be a positive number")
		}
		o.MaxSize = n
	}
	if v, ok := opts["max-file"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Options{}, err
		}
		if n < 1 {
			return Options{}, fmt.Errorf("max-file cannot be less than 1")
		}
		o.MaxFiles = n
	}
	if v, ok := opts["compress"]; ok {
		// Accepted for compatibility; rotated files are kept uncompressed.
		c, err := strconv.ParseBool(v)
		if err != nil {
			return Options{}, err
		}
		if c && (o.MaxFiles == 1 || o.MaxSize == 0) {
			return Options{}, fmt.Errorf("compress cannot be true when max-file is less than 2 or max-size is not set")
		}
	}
	return o, nil
}
