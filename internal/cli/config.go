package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
)

// Config is nerd's own settings file (nerd.toml). Flags override it.
type Config struct {
	DataRoot           string   `toml:"data_root"`
	HostsDir           string   `toml:"hosts_dir"`
	InsecureRegistries []string `toml:"insecure_registries"`
	Debug              bool     `toml:"debug"`
	// CNIPath is where the CNI plugins are (default: nerd's libexec dir).
	CNIPath string `toml:"cni_path"`
	// BridgeName and BridgeSubnet configure the default network "bridge";
	// NetworkPool is split into NetworkPoolSize subnets for user networks.
	BridgeName      string `toml:"bridge_name"`
	BridgeSubnet    string `toml:"bridge_subnet"`
	NetworkPool     string `toml:"network_pool"`
	NetworkPoolSize int    `toml:"network_pool_size"`
}

// ConfigPath is where nerd.toml is read from: $NERD_CONFIG, else
// /etc/nerd/nerd.toml for root and ~/.config/nerd/nerd.toml otherwise.
func ConfigPath() string {
	if p := os.Getenv("NERD_CONFIG"); p != "" {
		return p
	}
	if os.Geteuid() == 0 {
		return "/etc/nerd/nerd.toml"
	}
	return filepath.Join(xdgConfigHome(), "nerd", "nerd.toml")
}

// LoadConfig reads path; a missing file means defaults.
func LoadConfig(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading config %s: %w", path, err)
	}
	dec := toml.NewDecoder(bytesReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parsing config %s: %w", path, err)
	}
	return c, nil
}

// DefaultDataRoot is /var/lib/nerd for root, $XDG_DATA_HOME/nerd otherwise.
func DefaultDataRoot() string {
	if os.Geteuid() == 0 {
		return "/var/lib/nerd"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "nerd")
	}
	return filepath.Join(homeDir(), ".local", "share", "nerd")
}

// DefaultHostsDir is /etc/nerd/certs.d for root, ~/.config/nerd/certs.d
// otherwise.
func DefaultHostsDir() string {
	if os.Geteuid() == 0 {
		return "/etc/nerd/certs.d"
	}
	return filepath.Join(xdgConfigHome(), "nerd", "certs.d")
}

func xdgConfigHome() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return d
	}
	return filepath.Join(homeDir(), ".config")
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}
