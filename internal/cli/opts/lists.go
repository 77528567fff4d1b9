package opts

import (
	"fmt"
	"maps"
	"path"
	"sort"
	"strings"

	"github.com/docker/go-units"
	"github.com/nerd-project/nerd/pkg/container"
)

// List is a repeatable string flag (-e, -l, --cap-add, --group-add, ...)
// whose values pass through an optional validator, which may also rewrite
// them (-e KEY picks up the value from the environment).
type List struct {
	values   []string
	validate func(string) (string, error)
}

// NewList returns a List checking each value with validate (nil: any).
func NewList(validate func(string) (string, error)) *List {
	return &List{validate: validate}
}

// NewEnvList is -e/--env: Docker's ValidateEnv with lookup (nil:
// os.LookupEnv) providing values for bare names.
func NewEnvList(lookup LookupFunc) *List {
	return NewList(func(v string) (string, error) { return ValidateEnv(v, lookup) })
}

// NewLabelList is -l/--label.
func NewLabelList() *List { return NewList(ValidateLabel) }

// Set validates v and appends it.
func (l *List) Set(v string) error {
	if l.validate != nil {
		var err error
		if v, err = l.validate(v); err != nil {
			return err
		}
	}
	l.values = append(l.values, v)
	return nil
}

func (l *List) String() string {
	if len(l.values) == 0 {
		return ""
	}
	return fmt.Sprintf("%v", l.values)
}

// Type is what --help shows.
func (l *List) Type() string { return "list" }

// Values are the accepted values in order.
func (l *List) Values() []string { return append([]string(nil), l.values...) }

// GetSlice lets cobra complete a repeated flag.
func (l *List) GetSlice() []string { return l.Values() }

// Ulimits is --ulimit (name=soft[:hard]); a repeated name replaces the
// earlier one.
type Ulimits struct {
	byName map[string]container.Ulimit
}

// Set parses v with go-units' parser (Docker's): errors such as "invalid
// ulimit argument: nofile" or "invalid ulimit type: foo".
func (u *Ulimits) Set(v string) error {
	l, err := units.ParseUlimit(v)
	if err != nil {
		return err
	}
	if u.byName == nil {
		u.byName = map[string]container.Ulimit{}
	}
	u.byName[l.Name] = container.Ulimit{Name: l.Name, Soft: l.Soft, Hard: l.Hard}
	return nil
}

func (u *Ulimits) String() string {
	var out []string
	for _, l := range u.Values() {
		out = append(out, fmt.Sprintf("%s=%d:%d", l.Name, l.Soft, l.Hard))
	}
	return fmt.Sprintf("%v", out)
}

// Type is what --help shows.
func (u *Ulimits) Type() string { return "ulimit" }

// Values are the limits sorted by name.
func (u *Ulimits) Values() []container.Ulimit {
	out := make([]container.Ulimit, 0, len(u.byName))
	for _, l := range u.byName {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ParseDevice parses --device host[:container][:permissions] with the
// Docker CLI's checks: permissions are a combination of r, w and m, and
// the container path is absolute.
func ParseDevice(v string) (container.DeviceMapping, error) {
	if strings.Count(v, ":") > 2 {
		return container.DeviceMapping{}, fmt.Errorf("bad format for path: %s", v)
	}
	parts := strings.Split(v, ":")
	if parts[0] == "" {
		return container.DeviceMapping{}, fmt.Errorf("bad format for path: %s", v)
	}
	d := container.DeviceMapping{PathOnHost: parts[0], CgroupPermissions: "rwm"}
	switch len(parts) {
	case 2:
		// The second field is permissions if it looks like them, else
		// the container path.
		if validDeviceMode(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 3:
		if !validDeviceMode(parts[2]) {
			return container.DeviceMapping{}, fmt.Errorf("bad mode specified: %s", parts[2])
		}
		d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
	}
	if d.PathInContainer == "" {
		d.PathInContainer = d.PathOnHost
	}
	if !path.IsAbs(d.PathInContainer) {
		return container.DeviceMapping{}, fmt.Errorf("%s is not an absolute path", d.PathInContainer)
	}
	d.PathInContainer = path.Clean(d.PathInContainer)
	return d, nil
}

// validDeviceMode: each of r, w, m at most once, nothing else.
func validDeviceMode(mode string) bool {
	if mode == "" {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range mode {
		if (c != 'r' && c != 'w' && c != 'm') || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// Devices is --device.
type Devices struct {
	values []container.DeviceMapping
}

// Set parses v with ParseDevice.
func (d *Devices) Set(v string) error {
	m, err := ParseDevice(v)
	if err != nil {
		return err
	}
	d.values = append(d.values, m)
	return nil
}

func (d *Devices) String() string {
	var out []string
	for _, m := range d.values {
		out = append(out, m.PathOnHost+":"+m.PathInContainer+":"+m.CgroupPermissions)
	}
	return fmt.Sprintf("%v", out)
}

// Type is what --help shows.
func (d *Devices) Type() string { return "list" }

// Values are the mappings in order.
func (d *Devices) Values() []container.DeviceMapping {
	return append([]container.DeviceMapping(nil), d.values...)
}

// Tmpfs is --tmpfs /path[:options]; a repeated path replaces the earlier.
type Tmpfs struct {
	m map[string]string
}

// Set checks the path as dockerd does (absolute, not "/"); the options are
// checked by the engine when it validates the container.
func (t *Tmpfs) Set(v string) error {
	dest, options, _ := strings.Cut(v, ":")
	if path.Clean(dest) == "/" {
		return fmt.Errorf("invalid specification: destination can't be '/'")
	}
	if !path.IsAbs(dest) {
		return fmt.Errorf("invalid mount path: '%s' mount path must be absolute", dest)
	}
	if t.m == nil {
		t.m = map[string]string{}
	}
	t.m[dest] = options
	return nil
}

func (t *Tmpfs) String() string { return mapString(t.m, ":") }

// Type is what --help shows.
func (t *Tmpfs) Type() string { return "list" }

// Value maps each path to its options ("" for the defaults).
func (t *Tmpfs) Value() map[string]string { return maps.Clone(t.m) }

// Sysctls is --sysctl key=value.
type Sysctls struct {
	m map[string]string
}

// Set checks v against the Docker CLI's list of namespaced sysctls.
func (s *Sysctls) Set(v string) error {
	k, val, err := ValidateSysctl(v)
	if err != nil {
		return err
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = val
	return nil
}

func (s *Sysctls) String() string { return mapString(s.m, "=") }

// Type is what --help shows.
func (s *Sysctls) Type() string { return "map" }

// Value is the sysctls set.
func (s *Sysctls) Value() map[string]string { return maps.Clone(s.m) }

// ValidateSysctl is the Docker CLI's check: kernel IPC sysctls, fs.mqueue.*
// and net.* live in a container's namespaces; nothing else may be set. The
// engine further refuses net.* with --network host.
func ValidateSysctl(v string) (key, value string, err error) {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("sysctl '%s' is not allowed", v)
	}
	switch k {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return k, val, nil
	}
	if strings.HasPrefix(k, "net.") || strings.HasPrefix(k, "fs.mqueue.") {
		return k, val, nil
	}
	return "", "", fmt.Errorf("sysctl '%s' is not allowed", v)
}

func mapString(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+sep+m[k])
	}
	return fmt.Sprintf("%v", out)
}
