package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exec, top and inspect of a running container.

func TestExec(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "ctr", "-e", "FROMRUN=1", "-w", "/root", "busybox")...)

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"echo", []string{"ctr", "echo", "hi"}, "hi\n"},
		{"env-from-run", []string{"ctr", "sh", "-c", "echo $FROMRUN"}, "1\n"},
		{"workdir-from-run", []string{"ctr", "pwd"}, "/root\n"},
		{"env", []string{"-e", "FOO=bar", "ctr", "sh", "-c", "echo $FOO $FROMRUN"}, "bar 1\n"},
		{"workdir", []string{"-w", "/tmp", "ctr", "pwd"}, "/tmp\n"},
		{"user", []string{"-u", "nobody", "ctr", "id", "-u"}, "65534\n"},
		{"user-uid", []string{"--user", "1000:1000", "ctr", "id", "-g"}, "1000\n"},
		{"not-pid1", []string{"ctr", "sh", "-c", "test $$ != 1 && echo notinit"}, "notinit\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e.sub(t)
			if r := e.nerdOK(append([]string{"exec"}, c.args...)...); r.Stdout != c.want {
				t.Errorf("want %q:\n%s", c.want, r)
			}
		})
	}
	t.Run("exit-code", func(t *testing.T) {
		e := e.sub(t)
		if r := e.nerd("exec", "ctr", "sh", "-c", "exit 4"); r.Code != 4 {
			t.Errorf("want exit 4:\n%s", r)
		}
		e.nerdFail(127, []string{"exec", "ctr", "nosuchcmd"}, `executable file not found`)
	})
	t.Run("streams", func(t *testing.T) {
		e := e.sub(t)
		if r := e.nerdOK("exec", "ctr", "sh", "-c", "echo o; echo e >&2"); r.Stdout != "o\n" || r.Stderr != "e\n" {
			t.Errorf("stdout/stderr:\n%s", r)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		e := e.sub(t)
		if r := e.nerdIn(strings.NewReader("hi\n"), "exec", "-i", "ctr", "cat"); r.Code != 0 || r.Stdout != "hi\n" {
			t.Errorf("exec -i cat:\n%s", r)
		}
		if r := e.nerdIn(strings.NewReader("hi\n"), "exec", "ctr", "cat"); r.Code != 0 || r.Stdout != "" {
			t.Errorf("exec without -i must not pass stdin:\n%s", r)
		}
	})
	t.Run("tty", func(t *testing.T) {
		e := e.sub(t)
		if r := e.nerdOK("exec", "-t", "ctr", "tty"); !regexp.MustCompile(`^/dev/pts/\d+\r?\n$`).MatchString(r.Stdout) {
			t.Errorf("exec -t tty:\n%s", r)
		}
	})
	t.Run("detach", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdOK("exec", "-d", "ctr", "sh", "-c", "sleep 1; echo done > /tmp/flag")
		if r.Stdout != "" || r.Took > 900*time.Millisecond {
			t.Errorf("exec -d must return at once and print nothing:\n%s", r)
		}
		eventually(t, 10*time.Second, "the detached exec's file", func() (bool, string) {
			r := e.nerd("exec", "ctr", "cat", "/tmp/flag")
			return r.Stdout == "done\n", r.String()
		})
	})
	t.Run("top", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdOK("top", "ctr")
		header, rows := psTable(t, r.Stdout)
		if !slices.Contains(header, "PID") || !slices.Contains(header, "CMD") || !slices.Contains(header, "UID") {
			t.Errorf("top header %q, want ps -ef's (UID PID … CMD)", header)
		}
		pid := e.inspectC("ctr").State.Pid
		var found bool
		for _, row := range rows {
			if row["PID"] == strconv.Itoa(pid) && strings.Contains(row["CMD"], "sh -c trap") {
				found = true
			}
		}
		if !found {
			t.Errorf("top does not list the container's init (host pid %d):\n%s", pid, r)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		e := e.sub(t)
		e.nerdOK("run", "--name", "gone", "busybox", "true")
		e.nerdFail(1, []string{"exec", "gone", "echo", "hi"}, `is not running`)
		e.nerdFail(1, []string{"top", "gone"}, `is not running`)
	})
}

func TestInspectContainer(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	before := time.Now()
	id := e.runD(withSleeper("--name", "insp", "--restart", "on-failure:3", "-e", "X=1", "busybox")...)

	r := e.nerdOK("inspect", "insp") // bare inspect finds containers
	var arr []ctrInspect
	if err := json.Unmarshal([]byte(r.Stdout), &arr); err != nil || len(arr) != 1 {
		t.Fatalf("inspect insp: want a JSON array of one object (%v):\n%s", err, r)
	}
	got := arr[0]
	if got.ID != id || got.Name != "/insp" {
		t.Errorf("Id %q Name %q, want %q /insp", got.ID, got.Name, id)
	}
	st := got.State
	if st.Status != "running" || !st.Running || st.Paused || st.Restarting || st.ExitCode != 0 || st.FinishedAt != "0001-01-01T00:00:00Z" {
		t.Errorf("State %+v", st)
	}
	if st.Pid <= 0 || !procAlive(st.Pid) || !inContainerCgroup(st.Pid, id) {
		t.Errorf("State.Pid %d: want the live host pid of the container's init, in its cgroup", st.Pid)
	}
	if started, err := time.Parse(time.RFC3339Nano, st.StartedAt); err != nil || started.Before(before.Add(-time.Second)) || started.After(time.Now()) {
		t.Errorf("StartedAt %q (%v)", st.StartedAt, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, got.Created); err != nil {
		t.Errorf("Created %q: %v", got.Created, err)
	}
	if !slices.Equal(got.Config.Cmd, sleeper) || got.Path != "sh" || !slices.Equal(got.Args, sleeper[1:]) {
		t.Errorf("Config.Cmd %q Path %q Args %q", got.Config.Cmd, got.Path, got.Args)
	}
	if got.Config.Image != "busybox" || got.Image != busybox.ID {
		t.Errorf("Config.Image %q Image %q, want busybox and %s", got.Config.Image, got.Image, busybox.ID)
	}
	if !slices.Contains(got.Config.Env, "X=1") {
		t.Errorf("Config.Env %q", got.Config.Env)
	}
	if rp := got.HostConfig.RestartPolicy; rp.Name != "on-failure" || rp.MaximumRetryCount != 3 {
		t.Errorf("HostConfig.RestartPolicy %+v", rp)
	}
	if got.LogPath != filepath.Join(e.Root, "containers", id, id+"-json.log") || got.RestartCount != 0 {
		t.Errorf("LogPath %q RestartCount %d", got.LogPath, got.RestartCount)
	}
	if got.HostConfig.NetworkMode != "none" && got.HostConfig.NetworkMode != "host" && got.HostConfig.NetworkMode != "default" && got.HostConfig.NetworkMode != "bridge" {
		t.Errorf("HostConfig.NetworkMode %q", got.HostConfig.NetworkMode)
	}
	// Docker's field names are there, not just the ones decoded above.
	var raw []map[string]any
	_ = json.Unmarshal([]byte(r.Stdout), &raw)
	for _, k := range []string{"Id", "Created", "Path", "Args", "State", "Image", "LogPath", "Name", "RestartCount", "HostConfig", "Config", "Mounts", "NetworkSettings"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("inspect lacks %s", k)
		}
	}

	// --format, ID prefixes, `container inspect`, and containers with images.
	if r := e.nerdOK("inspect", "--format", "{{.State.Status}} {{.Name}} {{.RestartCount}}", "insp"); r.Stdout != "running /insp 0\n" {
		t.Errorf("inspect --format:\n%s", r)
	}
	for _, ref := range []string{id, id[:12], id[:5]} {
		if r := e.nerdOK("inspect", "-f", "{{.Id}}", ref); r.Stdout != id+"\n" {
			t.Errorf("inspect %s:\n%s", ref, r)
		}
	}
	if r := e.nerdOK("container", "inspect", "-f", "{{json .HostConfig.RestartPolicy}}", "insp"); r.Stdout != `{"Name":"on-failure","MaximumRetryCount":3}`+"\n" {
		t.Errorf("container inspect json:\n%s", r)
	}
	r = e.nerdOK("inspect", "insp", "busybox")
	if err := json.Unmarshal([]byte(r.Stdout), &raw); err != nil || len(raw) != 2 || raw[0]["Id"] != id || raw[1]["Id"] != busybox.ID {
		t.Errorf("inspect insp busybox: want the container then the image:\n%s", r)
	}

	// After a stop.
	e.nerdOK("stop", "insp")
	got = e.inspectC("insp")
	if got.State.Status != "exited" || got.State.Running || got.State.Pid != 0 || got.State.ExitCode != 0 {
		t.Errorf("after stop: State %+v", got.State)
	}
	if fin, err := time.Parse(time.RFC3339Nano, got.State.FinishedAt); err != nil || fin.Before(before) {
		t.Errorf("FinishedAt %q", got.State.FinishedAt)
	}
	if _, err := os.Stat(got.LogPath); err != nil {
		t.Errorf("LogPath: %v", err)
	}
}
