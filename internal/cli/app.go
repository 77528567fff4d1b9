// Package cli is what every nerd command shares: streams, global options,
// settings, the lazily opened stores, and Docker's exit-code rules.
package cli

import (
	"bytes"
	"io"
	"os"

	"github.com/moby/term"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/nerd-project/nerd/pkg/image/registry"
	"github.com/nerd-project/nerd/pkg/network"
)

// GlobalOptions are the flags every command accepts.
type GlobalOptions struct {
	DataRoot           string
	HostsDir           string
	InsecureRegistries []string
	Debug              bool
	// DockerConfig is Docker's --config: the directory of config.json.
	DockerConfig string
	// ConfigFile is the nerd.toml that was read.
	ConfigFile string
	// CNIPath is --cni-path: the CNI plugin directory.
	CNIPath string
	// Network holds nerd.toml's network settings.
	Network NetworkConfig
}

// NetworkConfig is the default network and user network pool (nerd.toml).
type NetworkConfig struct {
	BridgeName string
	Subnet     string
	Pool       string
	PoolSize   int
}

// App is handed to every command; it owns nothing global.
type App struct {
	In       io.Reader
	Out, Err io.Writer
	Global   GlobalOptions
	// Name is how the user invoked us ("nerd", or "docker" through a link),
	// used in help and error hints.
	Name string

	images *image.Store
	engine *engine.Engine
}

// NewApp returns an App on the process's standard streams.
func NewApp(name string) *App {
	return &App{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Name: name}
}

// ApplyConfig fills options the user did not set on the command line from
// nerd.toml, then from the built-in defaults.
func (a *App) ApplyConfig(c Config, dataRootSet, hostsDirSet, insecureSet bool) {
	g := &a.Global
	if g.CNIPath == "" {
		g.CNIPath = c.CNIPath
	}
	g.Network = NetworkConfig{BridgeName: c.BridgeName, Subnet: c.BridgeSubnet, Pool: c.NetworkPool, PoolSize: c.NetworkPoolSize}
	if !dataRootSet && c.DataRoot != "" {
		g.DataRoot = c.DataRoot
	}
	if !hostsDirSet && c.HostsDir != "" {
		g.HostsDir = c.HostsDir
	}
	if !insecureSet {
		g.InsecureRegistries = append(g.InsecureRegistries, c.InsecureRegistries...)
	}
	g.Debug = g.Debug || c.Debug
	if g.DataRoot == "" {
		g.DataRoot = DefaultDataRoot()
	}
	if g.HostsDir == "" {
		g.HostsDir = DefaultHostsDir()
	}
}

// Hosts is the registry hosts configuration.
func (a *App) Hosts() *registry.Hosts {
	return &registry.Hosts{Dir: a.Global.HostsDir, Insecure: a.Global.InsecureRegistries}
}

// Keychain reads credentials from Docker's config.json.
func (a *App) Keychain() *registry.Keychain {
	return registry.NewKeychain(a.Global.DockerConfig)
}

// Images opens the image store once per process, always with the engine
// beside it: the store must know which images containers use.
func (a *App) Images() (*image.Store, error) {
	eng, err := a.Engine()
	if err != nil {
		return nil, err
	}
	return eng.Images(), nil
}

func (a *App) openImages() (*image.Store, error) {
	if a.images != nil {
		return a.images, nil
	}
	s, err := image.Open(a.Global.DataRoot,
		image.WithHosts(a.Hosts()),
		image.WithKeychain(a.Keychain()),
		image.WithUserAgent("nerd/"+Version),
	)
	if err != nil {
		return nil, err
	}
	a.images = s
	return s, nil
}

// Engine opens the container engine (and the image store under it).
func (a *App) Engine() (*engine.Engine, error) {
	if a.engine != nil {
		return a.engine, nil
	}
	images, err := a.openImages()
	if err != nil {
		return nil, err
	}
	e, err := engine.New(engine.Options{DataRoot: a.Global.DataRoot, Images: images, Network: a.networkOptions()})
	if err != nil {
		return nil, err
	}
	a.engine = e
	return e, nil
}

func (a *App) networkOptions() engine.NetworkOptions {
	n := a.Global.Network
	return engine.NetworkOptions{
		CNIPath: a.Global.CNIPath, BridgeName: n.BridgeName, Subnet: n.Subnet, Pool: n.Pool, PoolSize: n.PoolSize,
		ConfigFile: a.Global.ConfigFile,
	}
}

// Networks opens the network manager. Network commands and the OCI hooks
// need no image store, so none is opened for them.
func (a *App) Networks() (*network.Manager, error) {
	if a.engine != nil {
		return a.engine.Networks()
	}
	e, err := engine.New(engine.Options{DataRoot: a.Global.DataRoot, Network: a.networkOptions()})
	if err != nil {
		return nil, err
	}
	return e.Networks()
}

// OutIsTerminal reports whether stdout is a terminal, and its fd.
func (a *App) OutIsTerminal() (uintptr, bool) {
	return term.GetFdInfo(a.Out)
}

// InIsTerminal reports whether stdin is a terminal.
func (a *App) InIsTerminal() bool {
	_, ok := term.GetFdInfo(a.In)
	return ok
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Version is set at build time with -ldflags.
var Version = "0.1.0-dev"

// GitCommit is set at build time with -ldflags.
var GitCommit = "unknown"
