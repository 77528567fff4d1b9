package main

import (
	"strings"

	"github.com/nerd-project/nerd/internal/cli/opts"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/spf13/pflag"
)

// mountOptions are the volume flags of run and create.
type mountOptions struct {
	volumes     []string
	mounts      opts.MountOpt
	volumesFrom []string
}

func addMountFlags(f *pflag.FlagSet, mo *mountOptions) {
	f.StringArrayVarP(&mo.volumes, "volume", "v", nil, "Bind mount a volume")
	f.Var(&mo.mounts, "mount", "Attach a filesystem mount to the container")
	f.StringArrayVar(&mo.volumesFrom, "volumes-from", nil, "Mount volumes from the specified container(s)")
}

// apply puts the flags into hc the way the Docker CLI sends them: -v
// values in Binds (a host path starting with "." made absolute),
// --mount in Mounts. The engine validates them all (dockerd's errors).
func (mo *mountOptions) apply(hc *container.HostConfig) error {
	for _, spec := range mo.volumes {
		m, err := opts.ParseVolume(spec)
		if err != nil {
			return err
		}
		if host, rest, ok := strings.Cut(spec, ":"); ok && m.Type == container.MountTypeBind && host != m.Source {
			spec = m.Source + ":" + rest
		}
		hc.Binds = append(hc.Binds, spec)
	}
	hc.Mounts = mo.mounts.Value()
	hc.VolumesFrom = append([]string(nil), mo.volumesFrom...)
	return nil
}
