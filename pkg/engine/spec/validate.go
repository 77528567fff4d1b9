package spec

import (
	"errors"

	"github.com/nerd-project/nerd/pkg/container"
)

// Validate performs dockerd's create-time checks on hc, with its messages,
// and fills in the defaults dockerd stores in the container's HostConfig
// (MemorySwap twice Memory, ShmSize 64 MiB, CPU shares clamped), so that
// inspect shows what Docker's would. The engine calls it before writing a
// new container; Generate calls it again on a copy.
func Validate(hc *container.HostConfig, host Host) error {
	if _, err := parseSecurityOpts(hc.SecurityOpt); err != nil {
		return err
	}
	if err := validateModes(hc); err != nil {
		return err
	}
	if err := validateResources(&hc.Resources, host); err != nil {
		return err
	}
	if hc.ShmSize < 0 {
		return errors.New("SHM size can not be less than 0")
	}
	if hc.ShmSize == 0 {
		hc.ShmSize = DefaultShmSize
	}
	if !hc.Privileged {
		if _, err := TweakCapabilities(DefaultCapabilities(), hc.CapAdd, hc.CapDrop, false); err != nil {
			return err
		}
	}
	for d, data := range hc.Tmpfs {
		if err := ValidateTmpfsDestination(d); err != nil {
			return err
		}
		if _, err := MergeTmpfsOptions(splitOptions(data)); err != nil {
			return err
		}
	}
	for k := range hc.Sysctls {
		if err := ValidateSysctl(k, isHostMode(hc.NetworkMode), isHostMode(hc.IpcMode)); err != nil {
			return err
		}
	}
	for _, u := range hc.Ulimits {
		if _, ok := rlimitTypes[u.Name]; !ok {
			return errors.New("invalid ulimit type: " + u.Name)
		}
	}
	return nil
}
