// Package container holds what the CLI engine (pkg/engine) and the
// per-container monitor (cmd/nerd-shim) share: the on-disk container record
// and state, their paths, and the monitor's socket protocol. It must stay
// small and free of heavy dependencies, because the monitor links it.
package container

import (
	"time"
)

// Record is a container's definition, written once by create (and updated
// by rename/update) to <dir>/container.json. Field names follow Docker's
// inspect JSON where one exists.
type Record struct {
	ID      string    `json:"Id"`
	Name    string    `json:"Name"` // without the leading "/"
	Created time.Time `json:"Created"`
	// Image is what the user typed (Config.Image in Docker's inspect);
	// ImageID is the config digest it resolved to.
	Image   string `json:"Image"`
	ImageID string `json:"ImageID"`
	// Path and Args are the process the container runs (entrypoint+cmd).
	Path string   `json:"Path"`
	Args []string `json:"Args"`

	Config     Config     `json:"Config"`
	HostConfig HostConfig `json:"HostConfig"`

	// Snapshots are the image's snapshot keys, bottom layer first; the
	// rootfs is an overlay of them under <dir>/upper.
	Snapshots []string `json:"Snapshots"`
	// SnapshotRoot is the directory holding the snapshot keys.
	SnapshotRoot string `json:"SnapshotRoot"`

	// MountPoints are the container's volumes, binds and tmpfs mounts as
	// resolved at create (see mounts.go).
	MountPoints []MountPoint `json:"MountPoints,omitempty"`
	// Networks are the networks the container joins at start, by name,
	// with what the user asked for on each (Docker's EndpointsConfig).
	// Empty for --network none, host and container:NAME.
	Networks map[string]*EndpointConfig `json:"Networks,omitempty"`
}

// EndpointConfig is --network-alias, --ip and --mac-address for one
// network.
type EndpointConfig struct {
	Aliases    []string `json:"Aliases,omitempty"`
	IPv4       string   `json:"IPv4Address,omitempty"`
	MacAddress string   `json:"MacAddress,omitempty"`
}

// PortBinding is one host side of a published port (Docker's shape).
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// Config is the portable part (Docker's container Config).
type Config struct {
	Hostname     string              `json:"Hostname"`
	Domainname   string              `json:"Domainname"`
	User         string              `json:"User"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	StdinOnce    bool                `json:"StdinOnce"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Image        string              `json:"Image"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   []string            `json:"Entrypoint"`
	Labels       map[string]string   `json:"Labels"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	StopTimeout  *int                `json:"StopTimeout,omitempty"`
}

// RestartPolicy is Docker's --restart.
type RestartPolicy struct {
	Name              string `json:"Name"` // "no", "always", "on-failure", "unless-stopped"
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// LogConfig is --log-driver/--log-opt.
type LogConfig struct {
	Type   string            `json:"Type"` // "json-file" or "none"
	Config map[string]string `json:"Config"`
}

// HostConfig is the non-portable part (Docker's HostConfig), reduced to
// what nerd implements.
type HostConfig struct {
	Binds          []string          `json:"Binds"`
	RestartPolicy  RestartPolicy     `json:"RestartPolicy"`
	AutoRemove     bool              `json:"AutoRemove"`
	LogConfig      LogConfig         `json:"LogConfig"`
	NetworkMode    string            `json:"NetworkMode"`
	Privileged     bool              `json:"Privileged"`
	ReadonlyRootfs bool              `json:"ReadonlyRootfs"`
	Init           *bool             `json:"Init,omitempty"`
	CapAdd         []string          `json:"CapAdd"`
	CapDrop        []string          `json:"CapDrop"`
	SecurityOpt    []string          `json:"SecurityOpt"`
	GroupAdd       []string          `json:"GroupAdd"`
	Sysctls        map[string]string `json:"Sysctls,omitempty"`
	Tmpfs          map[string]string `json:"Tmpfs,omitempty"`
	ShmSize        int64             `json:"ShmSize"`
	IpcMode        string            `json:"IpcMode"`
	PidMode        string            `json:"PidMode"`
	UTSMode        string            `json:"UTSMode"`
	Runtime        string            `json:"Runtime"`
	VolumesFrom    []string          `json:"VolumesFrom"`
	Mounts         []Mount           `json:"Mounts,omitempty"`
	// PortBindings is -p: "80/tcp" → host sides; PublishAllPorts is -P.
	PortBindings    map[string][]PortBinding `json:"PortBindings"`
	PublishAllPorts bool                     `json:"PublishAllPorts"`
	DNS             []string                 `json:"Dns"`
	DNSSearch       []string                 `json:"DnsSearch"`
	DNSOptions      []string                 `json:"DnsOptions"`
	ExtraHosts      []string                 `json:"ExtraHosts"`
	Resources
}

// Resources are the cgroup limits (Docker's names and units).
type Resources struct {
	Memory            int64           `json:"Memory"`
	MemorySwap        int64           `json:"MemorySwap"`
	MemoryReservation int64           `json:"MemoryReservation"`
	NanoCPUs          int64           `json:"NanoCpus"`
	CPUShares         int64           `json:"CpuShares"`
	CPUPeriod         int64           `json:"CpuPeriod"`
	CPUQuota          int64           `json:"CpuQuota"`
	CpusetCpus        string          `json:"CpusetCpus"`
	CpusetMems        string          `json:"CpusetMems"`
	PidsLimit         *int64          `json:"PidsLimit"`
	Ulimits           []Ulimit        `json:"Ulimits"`
	Devices           []DeviceMapping `json:"Devices"`
}

// Ulimit is one --ulimit.
type Ulimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// DeviceMapping is one --device.
type DeviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}
