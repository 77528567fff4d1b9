//go:build !nerd_compiled_seccomp

package main

import "github.com/opencontainers/runc/libcontainer/configs"

// precompileSeccomp needs libcontainer built with
// third_party/runc/compiled-seccomp.patch (make build); without it the
// init process compiles the profile itself, as runc does.
func precompileSeccomp(*configs.Config, string) {}
