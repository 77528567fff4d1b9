package opts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LookupFunc finds a variable in the caller's environment (os.LookupEnv).
type LookupFunc func(key string) (string, bool)

// ValidateEnv is Docker's check of one -e value: the name must not be
// empty; "KEY" alone takes KEY's value from lookup (nil: os.LookupEnv) and
// stays a bare "KEY" (which unsets an image variable) when KEY is not set.
// Names are otherwise not validated, as in Docker: the program in the
// container decides what it accepts.
func ValidateEnv(v string, lookup LookupFunc) (string, error) {
	k, _, hasValue := strings.Cut(v, "=")
	if k == "" {
		return "", errors.New("invalid environment variable: " + v)
	}
	if hasValue {
		return v, nil
	}
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if val, ok := lookup(k); ok {
		return k + "=" + val, nil
	}
	return v, nil
}

// ParseEnv validates a list of -e values (see ValidateEnv).
func ParseEnv(list []string, lookup LookupFunc) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, v := range list {
		e, err := ValidateEnv(v, lookup)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ValidateLabel is Docker's check of one -l value: key=value (or a bare
// key), with a non-empty key free of whitespace; leading whitespace is
// tolerated and the value is kept as given.
func ValidateLabel(v string) (string, error) {
	k, _, _ := strings.Cut(v, "=")
	k = strings.TrimLeft(k, " \t")
	if k == "" {
		return "", fmt.Errorf("invalid label '%s': empty name", v)
	}
	if strings.ContainsAny(k, " \t") {
		return "", fmt.Errorf("label '%s' contains whitespaces", k)
	}
	return v, nil
}

// ReadKVFile reads a --label-file (or any key=value file) with Docker's
// rules: UTF-8 only, a leading BOM dropped, leading whitespace trimmed,
// blank lines and lines starting with "#" skipped, "KEY=VALUE" kept as-is
// (quotes and trailing spaces are part of the value), and a bare "KEY"
// dropped. Keys must not be empty or contain whitespace.
func ReadKVFile(path string) ([]string, error) {
	return readKVFile(path, nil)
}

// ReadEnvFile reads an --env-file: the rules of ReadKVFile, except that a
// bare "KEY" takes KEY's value from lookup (nil: os.LookupEnv) and is
// dropped only when KEY is not set there.
func ReadEnvFile(path string, lookup LookupFunc) ([]string, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return readKVFile(path, lookup)
}

func readKVFile(path string, lookup LookupFunc) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, err := parseKV(f, lookup)
	if err != nil {
		// Docker says "env file" for label files too.
		return nil, fmt.Errorf("invalid env file (%s): %w", path, err)
	}
	return lines, nil
}

func parseKV(r io.Reader, lookup LookupFunc) ([]string, error) {
	lines := []string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("invalid utf8 bytes at line %d: %v", n, b)
		}
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
		}
		line := strings.TrimLeftFunc(string(b), unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		k, _, hasValue := strings.Cut(line, "=")
		if k == "" {
			return nil, fmt.Errorf("no variable name on line '%s'", line)
		}
		if strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("variable '%s' contains whitespaces", k)
		}
		if hasValue {
			lines = append(lines, line)
			continue
		}
		if lookup != nil {
			if v, ok := lookup(k); ok {
				lines = append(lines, k+"="+v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return lines, nil
}

// MergeEnv is a container's env from its --env-file files (in order,
// bare names looked up with lookup, nil: os.LookupEnv) followed by the -e
// values, so -e overrides a file. Errors name the flag, as Docker's do.
func MergeEnv(envFiles, env []string, lookup LookupFunc) ([]string, error) {
	var out []string
	for _, f := range envFiles {
		lines, err := ReadEnvFile(f, lookup)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		out = append(out, lines...)
	}
	// -e values are validated and a bare NAME takes its value from the
	// environment (or is dropped), as Docker's ValidateEnv does.
	parsed, err := ParseEnv(env, lookup)
	if err != nil {
		return nil, err
	}
	return append(out, parsed...), nil
}

// MergeLabels is a container's labels from its --label-file files then its
// -l values (a later key wins; a bare key has an empty value).
func MergeLabels(labelFiles, labels []string) (map[string]string, error) {
	var all []string
	for _, f := range labelFiles {
		lines, err := ReadKVFile(f)
		if err != nil {
			return nil, fmt.Errorf("--label-file: %w", err)
		}
		all = append(all, lines...)
	}
	return KVMap(append(all, labels...)), nil
}

// KVMap turns ["k=v", "k2"] into {"k": "v", "k2": ""}; a later key wins.
func KVMap(list []string) map[string]string {
	m := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
