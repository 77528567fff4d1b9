package opts

import "github.com/nerd-project/nerd/pkg/container"

// The functions below parse whole flag lists, for commands that collect
// raw strings (StringArray flags, compose files) instead of using the
// pflag.Value types. They apply the same rules and errors.

// ParseShmSize parses --shm-size.
func ParseShmSize(v string) (int64, error) {
	var s ShmSize
	err := s.Set(v)
	return s.Value(), err
}

// ParseUlimits parses --ulimit values (sorted by name, a later name wins).
func ParseUlimits(list []string) ([]container.Ulimit, error) {
	var u Ulimits
	for _, v := range list {
		if err := u.Set(v); err != nil {
			return nil, err
		}
	}
	return u.Values(), nil
}

// ParseDevices parses --device values.
func ParseDevices(list []string) ([]container.DeviceMapping, error) {
	var d Devices
	for _, v := range list {
		if err := d.Set(v); err != nil {
			return nil, err
		}
	}
	return d.Values(), nil
}

// ParseTmpfs parses --tmpfs values into path → options.
func ParseTmpfs(list []string) (map[string]string, error) {
	var t Tmpfs
	for _, v := range list {
		if err := t.Set(v); err != nil {
			return nil, err
		}
	}
	return t.Value(), nil
}

// ParseSysctls parses --sysctl values.
func ParseSysctls(list []string) (map[string]string, error) {
	var s Sysctls
	for _, v := range list {
		if err := s.Set(v); err != nil {
			return nil, err
		}
	}
	return s.Value(), nil
}
