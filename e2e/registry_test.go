package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The auth registry's only user. The hash is bcrypt (cost 5) of authPassword;
// docker-registry accepts only bcrypt in htpasswd files.
const (
	authUser     = "e2e"
	authPassword = "e2e-secret"
	authHtpasswd = "e2e:$2b$05$.bs/xwlNqdT5nEzmjorKN.qV210MyjTyF7h/i1qVcyBTYwfhK5UZW\n"
)

const registryBin = "/usr/bin/docker-registry"

// registry is one docker-registry process on a loopback port.
type registry struct {
	Host           string // 127.0.0.1:PORT
	Dir            string // storage root (filesystem driver)
	User, Password string // set when the registry requires auth
	LogFile        string
	cmd            *exec.Cmd
	exited         chan struct{}
}

// startRegistry starts docker-registry with storage under dir (created),
// retrying on a port race, and waits until /v2/ answers.
func startRegistry(dir string, auth bool) (*registry, error) {
	if _, err := os.Stat(registryBin); err != nil {
		return nil, fmt.Errorf("%s not found (apt-get install docker-registry): %w", registryBin, err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		r, err := tryStartRegistry(dir, auth)
		if err == nil {
			return r, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStartRegistry(dir string, auth bool) (*registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &registry{
		Host:    fmt.Sprintf("127.0.0.1:%d", port),
		Dir:     filepath.Join(dir, "storage"),
		LogFile: filepath.Join(dir, "registry.log"),
		exited:  make(chan struct{}),
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return nil, err
	}
	authCfg := ""
	if auth {
		r.User, r.Password = authUser, authPassword
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(authHtpasswd), 0o600); err != nil {
			return nil, err
		}
		authCfg = fmt.Sprintf("auth:\n  htpasswd:\n    realm: nerd-e2e\n    path: %s\n", htpasswd)
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: %s
%s`, r.Dir, r.Host, hex.EncodeToString(secret), authCfg)
	cfgFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(r.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	r.cmd = exec.Command(registryBin, "serve", cfgFile)
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	// The registry must not outlive the test binary even if it is killed:
	// Pdeathsig fires when the *thread* that started the child exits, so the
	// child is started and waited for on a goroutine locked to its thread.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := r.cmd.Start(); err != nil {
			started <- err
			close(r.exited)
			return
		}
		started <- nil
		_ = r.cmd.Wait()
		close(r.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			return nil, fmt.Errorf("docker-registry exited at start: %s", tail(r.LogFile))
		default:
		}
		resp, err := http.Get("http://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			want := http.StatusOK
			if auth {
				want = http.StatusUnauthorized
			}
			if resp.StatusCode == want {
				// Another server may have taken the port in between: then
				// ours exits on "address in use" right away.
				select {
				case <-r.exited:
					return nil, fmt.Errorf("docker-registry exited at start: %s", tail(r.LogFile))
				case <-time.After(100 * time.Millisecond):
					return r, nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.stop()
	return nil, fmt.Errorf("docker-registry on %s did not answer /v2/: %s", r.Host, tail(r.LogFile))
}

// stop kills the registry (by its pid) and waits for it.
func (r *registry) stop() {
	if r == nil || r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// ref returns HOST/repoTag on this registry.
func (r *registry) ref(repoTag string) string { return r.Host + "/" + repoTag }

// remoteOptions are the ggcr options to talk to this registry.
func (r *registry) remoteOptions() []remote.Option {
	if r.User != "" {
		return []remote.Option{remote.WithAuth(&authn.Basic{Username: r.User, Password: r.Password})}
	}
	return []remote.Option{remote.WithAuth(authn.Anonymous)}
}

// blobPath is where the filesystem driver keeps the blob's bytes.
func (r *registry) blobPath(digest string) string {
	hexd := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(r.Dir, "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")
}

// corruptBlob flips bytes in the middle of a stored blob, keeping its length,
// so the registry serves content that does not match the digest.
func (r *registry) corruptBlob(digest string) error {
	p := r.blobPath(digest)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errors.New("empty blob")
	}
	orig := bytes.Clone(b)
	for i := len(b) / 2; i < len(b) && i < len(b)/2+16; i++ {
		b[i] ^= 0xff
	}
	if bytes.Equal(orig, b) {
		return errors.New("blob unchanged")
	}
	return os.WriteFile(p, b, 0o644)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of a log file for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
