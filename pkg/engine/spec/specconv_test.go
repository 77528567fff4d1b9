package spec

import (
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/opencontainers/runc/libcontainer/configs/validate"
	"github.com/opencontainers/runc/libcontainer/specconv"
)

// TestSpecconv feeds generated specs through runc's own conversion and
// validation, the code the monitor runs before starting a container.
func TestSpecconv(t *testing.T) {
	yes := true
	pids := int64(50)
	tests := []struct {
		name  string
		setup func(in *Input)
	}{
		{"default", func(*Input) {}},
		{"privileged", func(in *Input) { in.Record.HostConfig.Privileged = true }},
		{"read-only, tty, init, user", func(in *Input) {
			in.Record.HostConfig.ReadonlyRootfs = true
			in.Record.Config.Tty = true
			in.Record.Config.User = "1000:1000"
			in.Record.HostConfig.Init = &yes
			in.InitPath = "/bin/true"
		}},
		{"limits", func(in *Input) {
			in.Record.HostConfig.Resources = container.Resources{
				Memory: 64 << 20, MemoryReservation: 32 << 20, NanoCPUs: 5e8, CPUShares: 512,
				CpusetCpus: "0", PidsLimit: &pids,
				Ulimits: []container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
				Devices: []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/n", CgroupPermissions: "rw"}},
			}
		}},
		{"tmpfs, sysctls, caps, nnp", func(in *Input) {
			hc := &in.Record.HostConfig
			hc.Tmpfs = map[string]string{"/run": "size=1m", "/tmp": "exec"}
			hc.Sysctls = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "65536"}
			hc.CapAdd = []string{"NET_ADMIN"}
			hc.CapDrop = []string{"MKNOD"}
			hc.SecurityOpt = []string{"no-new-privileges", "seccomp=unconfined"}
			hc.ShmSize = 1 << 20
		}},
		{"host namespaces", func(in *Input) {
			hc := &in.Record.HostConfig
			hc.NetworkMode, hc.PidMode, hc.IpcMode, hc.UTSMode = "host", "host", "host", "host"
		}},
		{"network none, ipc none", func(in *Input) {
			in.Record.HostConfig.NetworkMode = "none"
			in.Record.HostConfig.IpcMode = "none"
		}},
		{"cgroup v2", func(in *Input) { in.Host.CgroupV2 = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput(t)
			tt.setup(&in)
			s := mustGenerate(t, in)
			cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
				CgroupName: testID,
				Spec:       s,
			})
			if err != nil {
				t.Fatalf("CreateLibcontainerConfig: %v", err)
			}
			if err := validate.Validate(cfg); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if cfg.Cgroups.Path != "/nerd/"+testID {
				t.Errorf("cgroup path = %q", cfg.Cgroups.Path)
			}
		})
	}
}
