package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/nerd-project/nerd/pkg/container"
)

func TestExecTTY(t *testing.T) {
	c := newCtr(t, []string{"sleep", "1000"}, nil)
	c.mustStart()
	cl := c.client()
	s, err := cl.Exec(context.Background(), &specs.Process{Args: []string{"sh", "-c", "tty; echo err >&2"}, Terminal: true}, container.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Resize(40, 100)
	var out, errb bytes.Buffer
	code, err := s.Copy(&out, &errb)
	if err != nil || code != 0 || errb.Len() != 0 || !strings.HasPrefix(out.String(), "/dev/pts/") || !strings.HasSuffix(out.String(), "\r\nerr\r\n") {
		t.Errorf("exec -t: %d %v out %q err %q", code, err, out.String(), errb.String())
	}
	_ = cl.Kill(context.Background(), int(syscall.SIGKILL), true)
	c.wait()
}

func TestSetRestartPolicy(t *testing.T) {
	c := newCtr(t, []string{"sh", "-c", "sleep 0.5; exit 1"}, nil)
	c.mustStart()
	if err := c.client().SetRestartPolicy(context.Background(), container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 1}); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(); code != 1 {
		t.Errorf("exit %d", code)
	}
	if st := c.state(); st.RestartCount != 1 {
		t.Errorf("state = %+v", st)
	}
}

func TestOOMKilled(t *testing.T) {
	c := newCtr(t, []string{"tail", "/dev/zero"}, func(_ *container.Record, s *specs.Spec) {
		limit := int64(16 << 20)
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
	})
	c.mustStart()
	if code := c.wait(); code != 137 {
		t.Errorf("exit %d", code)
	}
	if st := c.state(); !st.OOMKilled {
		t.Errorf("state = %+v", st)
	}
}

func TestLogDriverNone(t *testing.T) {
	c := newCtr(t, []string{"echo", "hi"}, func(r *container.Record, _ *specs.Spec) {
		r.HostConfig.LogConfig.Type = "none"
	})
	c.mustStart("--wait-attach")
	s, err := c.client().Attach(context.Background(), container.AttachOptions{Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code, err := s.Copy(&out, nil); code != 0 || err != nil || out.String() != "hi\n" {
		t.Errorf("attach: %d %v %q", code, err, out.String())
	}
	c.waitShim()
	if _, err := os.Stat(c.p.Log()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log file with --log-driver none: %v", err)
	}
}

// TestManyLayers mounts more lower dirs than fit in a page of mount
// options: relative to the snapshot root (50), or through short links when
// even that is too long (120).
func TestManyLayers(t *testing.T) {
	for _, n := range []int{50, 120} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { testManyLayers(t, n) })
	}
}

func testManyLayers(t *testing.T, n int) {
	var keys []string
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("%064x", i+1)
		if err := os.MkdirAll(filepath.Join(snapRoot, k, "fs", "layer"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(snapRoot, k, "fs", "layer", "n"), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	defer func() {
		for _, k := range keys {
			os.RemoveAll(filepath.Join(snapRoot, k))
		}
	}()
	c := newCtr(t, []string{"cat", "/layer/n"}, func(r *container.Record, _ *specs.Spec) {
		r.Snapshots = append([]string{"busybox"}, keys...)
	})
	if len(keys)*len(filepath.Join(snapRoot, keys[0], "fs")) < os.Getpagesize() {
		t.Fatal("test layers do not exceed a page")
	}
	c.mustStart()
	if code := c.wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
	// The top layer (last snapshot) wins.
	if logs := c.logs(); len(logs) != 1 || logs[0].Log != fmt.Sprint(n-1) {
		t.Errorf("logs = %+v", logs)
	}
}

func TestAutoRemoveFailedStart(t *testing.T) {
	c := newCtr(t, []string{"nosuchcmd"}, func(r *container.Record, _ *specs.Spec) {
		r.HostConfig.AutoRemove = true
	})
	if res := c.start(); res.Code != 127 {
		t.Errorf("result %+v", res)
	}
	c.waitShim()
	if _, err := os.Stat(c.p.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container dir: %v", err)
	}
}

// TestWaitAttachTimeout: a --wait-attach whose client never comes still
// logs and ends (after the gate's timeout).
func TestWaitAttachTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the gate timeout")
	}
	c := newCtr(t, []string{"echo", "unattended"}, nil)
	c.mustStart("--wait-attach")
	time.Sleep(200 * time.Millisecond)
	if st := c.state(); st.Status != container.StatusRunning {
		t.Errorf("held container reads %q", st.Status)
	}
	select {
	case <-c.waitC:
	case <-time.After(gateTimeout + 5*time.Second):
		t.Fatal("monitor did not end after the gate timeout")
	}
	if logs := c.logs(); len(logs) != 1 || logs[0].Log != "unattended\n" {
		t.Errorf("logs = %+v", logs)
	}
}
