package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// Mount types, Docker's names.
const (
	MountTypeBind   = "bind"
	MountTypeVolume = "volume"
	MountTypeTmpfs  = "tmpfs"
)

// Mount is one --mount (Docker's HostConfig.Mounts element).
type Mount struct {
	Type          string         `json:"Type,omitempty"`
	Source        string         `json:"Source,omitempty"`
	Target        string         `json:"Target,omitempty"`
	ReadOnly      bool           `json:"ReadOnly,omitempty"`
	Consistency   string         `json:"Consistency,omitempty"`
	BindOptions   *BindOptions   `json:"BindOptions,omitempty"`
	VolumeOptions *VolumeOptions `json:"VolumeOptions,omitempty"`
	TmpfsOptions  *TmpfsOptions  `json:"TmpfsOptions,omitempty"`
}

// BindOptions are the bind-* keys of --mount.
type BindOptions struct {
	Propagation      string `json:"Propagation,omitempty"`
	NonRecursive     bool   `json:"NonRecursive,omitempty"`
	CreateMountpoint bool   `json:"CreateMountpoint,omitempty"`
}

// VolumeOptions are the volume-* keys of --mount.
type VolumeOptions struct {
	NoCopy       bool              `json:"NoCopy,omitempty"`
	Labels       map[string]string `json:"Labels,omitempty"`
	Subpath      string            `json:"Subpath,omitempty"`
	DriverConfig *Driver           `json:"DriverConfig,omitempty"`
}

// Driver is a volume driver and its options.
type Driver struct {
	Name    string            `json:"Name,omitempty"`
	Options map[string]string `json:"Options,omitempty"`
}

// TmpfsOptions are the tmpfs-* keys of --mount.
type TmpfsOptions struct {
	SizeBytes int64       `json:"SizeBytes,omitempty"`
	Mode      os.FileMode `json:"Mode,omitempty"`
}

// InspectMount is one element of inspect's .Mounts (Docker's MountPoint);
// the record stores it inside MountPoint, so the JSON keys are the same.
type InspectMount struct {
	Type        string `json:"Type,omitempty"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver,omitempty"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

// MountPoint is one resolved mount of a container, decided at create and
// stored in the record: what inspect shows as .Mounts, what the spec
// mounts, and what volume commands read to know a volume is in use (so
// none of them has to look further than container.json).
type MountPoint struct {
	InspectMount

	// Anonymous volumes are removed with the container by rm -v and --rm.
	Anonymous bool `json:"Anonymous,omitempty"`
	// NonRecursive binds are "bind" rather than "rbind".
	NonRecursive bool `json:"NonRecursive,omitempty"`
	// VolumeOptions are a local volume's type/device/o: the spec mounts
	// that file system instead of binding the volume's directory.
	VolumeOptions map[string]string `json:"VolumeOptions,omitempty"`
	// Tmpfs is the size and mode of a --mount type=tmpfs.
	Tmpfs *TmpfsOptions `json:"Tmpfs,omitempty"`
}

// VolumeUsers reads the records under containersDir and maps each volume
// name to the IDs of the containers that mount it. Containers being
// created (".tmp-<id>", record written but not yet renamed) count as
// users; those being removed (".rm-<id>") do not.
func VolumeUsers(containersDir string) (map[string][]string, error) {
	entries, err := os.ReadDir(containersDir)
	if err != nil {
		if os.IsNotExist(err) {
			return map[string][]string{}, nil
		}
		return nil, err
	}
	users := map[string][]string{}
	for _, ent := range entries {
		if !ent.IsDir() || strings.HasPrefix(ent.Name(), ".rm-") {
			continue
		}
		// Only the mount points are decoded: this runs on every volume
		// command and in the monitor.
		var rec struct {
			ID          string       `json:"Id"`
			MountPoints []MountPoint `json:"MountPoints"`
		}
		data, err := os.ReadFile(filepath.Join(containersDir, ent.Name(), "container.json"))
		if err != nil || json.Unmarshal(data, &rec) != nil {
			continue
		}
		for _, mp := range rec.MountPoints {
			if mp.Type == MountTypeVolume && mp.Name != "" {
				users[mp.Name] = append(users[mp.Name], rec.ID)
			}
		}
	}
	return users, nil
}
