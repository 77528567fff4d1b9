package engine

import (
	"time"

	"github.com/nerd-project/nerd/pkg/container"
)

// InspectResponse is `docker container inspect`'s JSON shape.
type InspectResponse struct {
	ID              string               `json:"Id"`
	Created         string               `json:"Created"`
	Path            string               `json:"Path"`
	Args            []string             `json:"Args"`
	State           InspectState         `json:"State"`
	Image           string               `json:"Image"`
	ResolvConfPath  string               `json:"ResolvConfPath"`
	HostnamePath    string               `json:"HostnamePath"`
	HostsPath       string               `json:"HostsPath"`
	LogPath         string               `json:"LogPath"`
	Name            string               `json:"Name"`
	RestartCount    int                  `json:"RestartCount"`
	Driver          string               `json:"Driver"`
	Platform        string               `json:"Platform"`
	MountLabel      string               `json:"MountLabel"`
	ProcessLabel    string               `json:"ProcessLabel"`
	AppArmorProfile string               `json:"AppArmorProfile"`
	ExecIDs         []string             `json:"ExecIDs"`
	HostConfig      container.HostConfig `json:"HostConfig"`
	GraphDriver     GraphDriver          `json:"GraphDriver"`
	Mounts          []any                `json:"Mounts"`
	Config          container.Config     `json:"Config"`
	NetworkSettings NetworkSettings      `json:"NetworkSettings"`
}

// InspectState is .State.
type InspectState struct {
	Status     string `json:"Status"`
	Running    bool   `json:"Running"`
	Paused     bool   `json:"Paused"`
	Restarting bool   `json:"Restarting"`
	OOMKilled  bool   `json:"OOMKilled"`
	Dead       bool   `json:"Dead"`
	Pid        int    `json:"Pid"`
	ExitCode   int    `json:"ExitCode"`
	Error      string `json:"Error"`
	StartedAt  string `json:"StartedAt"`
	FinishedAt string `json:"FinishedAt"`
}

// GraphDriver names the storage of the container's rootfs.
type GraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

const zeroTime = "0001-01-01T00:00:00Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return zeroTime
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Inspect renders c the way Docker does.
func (e *Engine) Inspect(c *Container) InspectResponse {
	st := c.State
	r := InspectResponse{
		ID:      c.ID,
		Created: formatTime(c.Created),
		Path:    c.Path,
		Args:    c.Args,
		State: InspectState{
			Status:     st.Status,
			Running:    st.Running(), // dockerd: also while restarting (Pid 0)
			Paused:     st.Status == container.StatusPaused,
			Restarting: st.Status == container.StatusRestarting,
			OOMKilled:  st.OOMKilled,
			Dead:       st.Status == container.StatusDead,
			Pid:        st.Pid,
			ExitCode:   st.ExitCode,
			Error:      st.Error,
			StartedAt:  formatTime(st.StartedAt),
			FinishedAt: formatTime(st.FinishedAt),
		},
		Image:           c.ImageID,
		ResolvConfPath:  c.Paths.Dir + "/resolv.conf",
		HostnamePath:    c.Paths.Dir + "/hostname",
		HostsPath:       c.Paths.Dir + "/hosts",
		Name:            "/" + c.Name,
		RestartCount:    st.RestartCount,
		Driver:          "overlayfs",
		Platform:        "linux",
		ExecIDs:         nil,
		HostConfig:      c.HostConfig,
		Mounts:          inspectMounts(c.MountPoints),
		Config:          c.Config,
		NetworkSettings: e.networkSettings(c),
		GraphDriver: GraphDriver{Name: "overlayfs", Data: map[string]string{
			"UpperDir":  c.Paths.Upper(),
			"WorkDir":   c.Paths.Work(),
			"MergedDir": c.Paths.Rootfs(),
		}},
	}
	if !st.Running() {
		r.State.Pid = 0
	}
	if c.HostConfig.LogConfig.Type != "none" {
		r.LogPath = c.Paths.Log()
	}
	return r
}
