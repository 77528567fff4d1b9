package opts

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/nerd-project/nerd/pkg/container"
)

// Propagation modes a bind accepts (Docker's).
var propagations = map[string]bool{
	"private": true, "rprivate": true, "shared": true, "rshared": true, "slave": true, "rslave": true,
}

// volumeMode is the parsed third field of -v: at most one of each kind.
type volumeMode struct {
	readOnly    bool
	propagation string
	noCopy      bool
}

// parseVolumeMode checks a -v mode list ("ro", "rw,rshared", "z",
// "nocopy" …) the way dockerd does: every item known, no kind twice.
func parseVolumeMode(mode string) (volumeMode, bool) {
	var m volumeMode
	if mode == "" {
		return m, true
	}
	seen := map[string]bool{}
	for _, o := range strings.Split(mode, ",") {
		kind := ""
		switch {
		case o == "rw" || o == "ro":
			kind = "rw"
			m.readOnly = o == "ro"
		case o == "z" || o == "Z":
			// SELinux relabeling: accepted and ignored, as on hosts
			// without SELinux.
			kind = "label"
		case propagations[o]:
			kind = "propagation"
			m.propagation = o
		case o == "nocopy":
			kind = "copy"
			m.noCopy = true
		default:
			return m, false
		}
		if seen[kind] {
			return m, false
		}
		seen[kind] = true
	}
	return m, true
}

// ParseVolume parses one -v/--volume value: /ctr (anonymous volume),
// NAME:/ctr[:mode] (named volume) or /host:/ctr[:mode] (bind), with
// dockerd's errors. A host path starting with "." is made absolute
// against the working directory, as the Docker CLI does.
func ParseVolume(spec string) (container.Mount, error) {
	invalid := func() error { return fmt.Errorf("invalid volume specification: '%s'", spec) }
	parts := strings.Split(spec, ":")
	if parts[0] == "" {
		return container.Mount{}, invalid()
	}
	var m container.Mount
	mode := ""
	switch len(parts) {
	case 1:
		m.Target = parts[0]
	case 2:
		if _, ok := parseVolumeMode(parts[1]); ok && parts[1] != "" && !strings.HasPrefix(parts[1], "/") {
			// "/ctr:ro": an anonymous volume cannot take a mode.
			return container.Mount{}, invalid()
		}
		m.Source, m.Target = parts[0], parts[1]
	case 3:
		m.Source, m.Target, mode = parts[0], parts[1], parts[2]
	default:
		return container.Mount{}, invalid()
	}
	vm, ok := parseVolumeMode(mode)
	if !ok {
		return container.Mount{}, fmt.Errorf("invalid mode: %s", mode)
	}
	if strings.HasPrefix(m.Source, ".") {
		abs, err := filepath.Abs(m.Source)
		if err != nil {
			return container.Mount{}, err
		}
		m.Source = abs
	}
	m.ReadOnly = vm.readOnly
	if filepath.IsAbs(m.Source) {
		m.Type = container.MountTypeBind
		if vm.noCopy {
			return container.Mount{}, fmt.Errorf("invalid mode: %s", mode)
		}
		m.BindOptions = &container.BindOptions{Propagation: vm.propagation, CreateMountpoint: true}
	} else {
		m.Type = container.MountTypeVolume
		if vm.propagation != "" {
			return container.Mount{}, fmt.Errorf("invalid volume specification: '%s': propagation is not supported for named volumes", spec)
		}
		if vm.noCopy {
			m.VolumeOptions = &container.VolumeOptions{NoCopy: true}
		}
	}
	if err := ValidateMountTarget(m.Target); err != nil {
		return container.Mount{}, fmt.Errorf("invalid volume specification: '%s': invalid mount config for type %q: %w", spec, m.Type, err)
	}
	return m, nil
}

// VolumeMode is the Mode inspect shows for a -v value: its third field,
// or "z" for a volume without one (what Docker reports).
func VolumeMode(spec string, m container.Mount) string {
	parts := strings.Split(spec, ":")
	if len(parts) == 3 {
		return parts[2]
	}
	if m.Type == container.MountTypeVolume {
		return "z"
	}
	return ""
}

// ValidateMountTarget is dockerd's check of a container path.
func ValidateMountTarget(target string) error {
	if target == "" {
		return errors.New("field Target must not be empty")
	}
	if !path.IsAbs(target) {
		return fmt.Errorf("invalid mount path: '%s' mount path must be absolute", target)
	}
	if path.Clean(target) == "/" {
		return errors.New("invalid specification: destination can't be '/'")
	}
	return nil
}

// MountOpt is --mount: Docker's comma-separated key=value syntax.
type MountOpt struct {
	values []container.Mount
}

// Set parses one --mount value.
func (o *MountOpt) Set(v string) error {
	m, err := ParseMount(v)
	if err != nil {
		return err
	}
	o.values = append(o.values, m)
	return nil
}

func (o *MountOpt) String() string {
	var s []string
	for _, m := range o.values {
		s = append(s, m.Type+" "+m.Source+" "+m.Target)
	}
	return strings.Join(s, ", ")
}

// Type is what --help shows.
func (o *MountOpt) Type() string { return "mount" }

// Value is the mounts in order.
func (o *MountOpt) Value() []container.Mount { return append([]container.Mount(nil), o.values...) }

// boolOptions are the --mount keys that may stand without a value.
var boolOptions = map[string]bool{"readonly": true, "ro": true, "volume-nocopy": true, "bind-nonrecursive": true, "bind-create-src": true}

// ParseMount parses one --mount value with the Docker CLI's rules and
// messages. The type defaults to volume.
func ParseMount(value string) (container.Mount, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return container.Mount{}, errors.New("value is empty")
	}
	fields, err := csv.NewReader(strings.NewReader(value)).Read()
	if err != nil {
		return container.Mount{}, err
	}
	m := container.Mount{Type: container.MountTypeVolume}
	bind := func() *container.BindOptions {
		if m.BindOptions == nil {
			m.BindOptions = &container.BindOptions{}
		}
		return m.BindOptions
	}
	vol := func() *container.VolumeOptions {
		if m.VolumeOptions == nil {
			m.VolumeOptions = &container.VolumeOptions{}
		}
		return m.VolumeOptions
	}
	driver := func() *container.Driver {
		if vol().DriverConfig == nil {
			m.VolumeOptions.DriverConfig = &container.Driver{}
		}
		return m.VolumeOptions.DriverConfig
	}
	tmpfs := func() *container.TmpfsOptions {
		if m.TmpfsOptions == nil {
			m.TmpfsOptions = &container.TmpfsOptions{}
		}
		return m.TmpfsOptions
	}
	for _, field := range fields {
		key, val, hasValue := strings.Cut(field, "=")
		if k := strings.TrimSpace(key); k != key {
			return m, fmt.Errorf("invalid option '%s' in '%s': option should not have whitespace", k, field)
		}
		if hasValue {
			if v := strings.TrimSpace(val); v == "" {
				return m, fmt.Errorf("invalid value for '%s': value is empty", key)
			} else if v != val {
				return m, fmt.Errorf("invalid value for '%s' in '%s': value should not have whitespace", key, field)
			}
		}
		key = strings.ToLower(key)
		if !hasValue && !boolOptions[key] {
			return m, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
		}
		switch key {
		case "type":
			m.Type = strings.ToLower(val)
		case "source", "src":
			m.Source = val
			if strings.HasPrefix(val, ".") {
				if abs, err := filepath.Abs(val); err == nil {
					m.Source = abs
				}
			}
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if m.ReadOnly, err = mountBool(key, val, hasValue); err != nil {
				return m, err
			}
		case "consistency":
			m.Consistency = val
		case "bind-propagation":
			bind().Propagation = strings.ToLower(val)
		case "bind-nonrecursive":
			return m, errors.New("bind-nonrecursive is deprecated, use bind-recursive=disabled instead")
		case "bind-recursive":
			switch val {
			case "enabled":
			case "disabled":
				bind().NonRecursive = true
			default:
				return m, fmt.Errorf(`invalid value for %s: %s (must be "enabled" or "disabled")`, key, val)
			}
		case "bind-create-src":
			if bind().CreateMountpoint, err = mountBool(key, val, hasValue); err != nil {
				return m, err
			}
		case "volume-nocopy":
			if vol().NoCopy, err = mountBool(key, val, hasValue); err != nil {
				return m, err
			}
		case "volume-label":
			k, v, _ := strings.Cut(val, "=")
			if vol().Labels == nil {
				m.VolumeOptions.Labels = map[string]string{}
			}
			m.VolumeOptions.Labels[k] = v
		case "volume-driver":
			driver().Name = val
		case "volume-opt":
			k, v, ok := strings.Cut(val, "=")
			if !ok {
				return m, fmt.Errorf("invalid volume-opt '%s': must be a key=value pair", val)
			}
			d := driver()
			if d.Options == nil {
				d.Options = map[string]string{}
			}
			d.Options[k] = v
		case "tmpfs-size":
			size, err := units.RAMInBytes(val)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfs().SizeBytes = size
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			// The raw permission bits (sticky is 01000, not
			// os.ModeSticky), as the Docker API carries them.
			tmpfs().Mode = os.FileMode(mode)
		default:
			return m, fmt.Errorf("unknown option '%s' in '%s'", key, field)
		}
	}
	if m.Type == "" {
		return m, errors.New("type is required")
	}
	if m.BindOptions != nil && m.Type != container.MountTypeBind {
		return m, fmt.Errorf("cannot mix 'bind-*' options with mount type '%s'", m.Type)
	}
	if m.VolumeOptions != nil && m.Type != container.MountTypeVolume {
		return m, fmt.Errorf("cannot mix 'volume-*' options with mount type '%s'", m.Type)
	}
	if m.TmpfsOptions != nil && m.Type != container.MountTypeTmpfs {
		return m, fmt.Errorf("cannot mix 'tmpfs-*' options with mount type '%s'", m.Type)
	}
	return m, nil
}

func mountBool(key, val string, hasValue bool) (bool, error) {
	if !hasValue {
		return true, nil
	}
	switch strings.ToLower(val) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf(`invalid value for '%s': invalid boolean value (%q): must be one of "true", "1", "false", or "0" (default "true")`, key, val)
}
