package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// `nerd ps` with each flag, filter and format. One env with three
// containers, oldest first: exited3 (exited with 3, label role=a, wrote
// 100 kB), created1 (created), up1 (running, label role=b). The subtests
// only read it.
func TestPs(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	if r := e.nerd("run", "--name", "exited3", "-l", "role=a", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /big; exit 3"); r.Code != 3 {
		t.Fatalf("want exit 3:\n%s", r)
	}
	e.nerdOK("create", "--name", "created1", "busybox", "true")
	up := e.runD(withSleeper("--name", "up1", "-l", "role=b", "busybox")...)
	ex, cr := e.inspectC("exited3").ID, e.inspectC("created1").ID
	all := []string{"up1", "created1", "exited3"}

	t.Run("table", func(t *testing.T) {
		e := e.sub(t)
		header, rows := psTable(t, e.nerdOK("ps").Stdout)
		if !slices.Equal(header, []string{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}) {
			t.Errorf("header %q", header)
		}
		if len(rows) != 1 {
			t.Fatalf("ps lists %d containers, want only the running one: %v", len(rows), rows)
		}
		row := rows[0]
		want := map[string]string{"CONTAINER ID": up[:12], "IMAGE": "busybox", "COMMAND": `"sh -c 'trap 'exit 0…"`, "PORTS": "", "NAMES": "up1"}
		for k, v := range want {
			if row[k] != v {
				t.Errorf("%s %q, want %q", k, row[k], v)
			}
		}
		if !upRe.MatchString(row["STATUS"]) || !regexp.MustCompile(`^(Less than a second|\d+ seconds?|About a minute) ago$`).MatchString(row["CREATED"]) {
			t.Errorf("STATUS %q CREATED %q", row["STATUS"], row["CREATED"])
		}
	})
	t.Run("all", func(t *testing.T) {
		e := e.sub(t)
		_, rows := psTable(t, e.nerdOK("ps", "-a").Stdout)
		var names []string
		byName := map[string]map[string]string{}
		for _, r := range rows {
			names = append(names, r["NAMES"])
			byName[r["NAMES"]] = r
		}
		if !slices.Equal(names, all) {
			t.Fatalf("ps -a names %v, want %v (newest first)", names, all)
		}
		if s := byName["exited3"]["STATUS"]; !exitedRe(3).MatchString(s) {
			t.Errorf("exited3 STATUS %q", s)
		}
		if s := byName["created1"]["STATUS"]; s != "Created" {
			t.Errorf("created1 STATUS %q", s)
		}
		if c := byName["exited3"]["COMMAND"]; c != `"sh -c 'head -c 1000…"` {
			t.Errorf("exited3 COMMAND %q", c)
		}
		if c := byName["created1"]["COMMAND"]; c != `"true"` {
			t.Errorf("created1 COMMAND %q", c)
		}
	})
	t.Run("quiet", func(t *testing.T) {
		e := e.sub(t)
		if got := e.nerdOK("ps", "-q").Lines(); !slices.Equal(got, []string{up[:12]}) {
			t.Errorf("ps -q: %v", got)
		}
		if got := e.nerdOK("ps", "-a", "-q").Lines(); !slices.Equal(got, []string{up[:12], cr[:12], ex[:12]}) {
			t.Errorf("ps -aq: %v", got)
		}
		if got := e.nerdOK("ps", "--all", "--quiet", "--no-trunc").Lines(); !slices.Equal(got, []string{up, cr, ex}) {
			t.Errorf("ps -aq --no-trunc: %v", got)
		}
	})
	t.Run("last", func(t *testing.T) {
		e := e.sub(t)
		if got := e.psNames("-n", "2"); !slices.Equal(got, all[:2]) {
			t.Errorf("ps -n 2: %v", got)
		}
		if got := e.psNames("--last", "3"); !slices.Equal(got, all) {
			t.Errorf("ps --last 3: %v", got)
		}
		if got := e.psNames("-l"); !slices.Equal(got, all[:1]) {
			t.Errorf("ps -l: %v", got)
		}
	})
	t.Run("size", func(t *testing.T) {
		e := e.sub(t)
		header, rows := psTable(t, e.nerdOK("ps", "-a", "-s").Stdout)
		if len(header) == 0 || header[len(header)-1] != "SIZE" {
			t.Fatalf("ps -s header %q, want SIZE last", header)
		}
		for _, r := range rows {
			if r["NAMES"] == "exited3" && !regexp.MustCompile(`^100kB \(virtual [0-9.]+[kM]?B\)$`).MatchString(r["SIZE"]) {
				t.Errorf("exited3 SIZE %q, want \"100kB (virtual …)\"", r["SIZE"])
			}
		}
	})
	t.Run("no-trunc", func(t *testing.T) {
		e := e.sub(t)
		_, rows := psTable(t, e.nerdOK("ps", "--no-trunc").Stdout)
		if len(rows) != 1 || rows[0]["CONTAINER ID"] != up {
			t.Fatalf("ps --no-trunc rows %v", rows)
		}
		if c, want := rows[0]["COMMAND"], `"sh -c 'trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done'"`; c != want {
			t.Errorf("COMMAND %q, want %q", c, want)
		}
	})
	t.Run("filter", func(t *testing.T) {
		e := e.sub(t)
		for _, c := range []struct {
			args []string
			want []string
		}{
			{[]string{"-a", "--filter", "id=" + up[:6]}, []string{"up1"}},
			{[]string{"-a", "--filter", "id=" + ex}, []string{"exited3"}},
			{[]string{"-a", "--filter", "name=up1"}, []string{"up1"}},
			{[]string{"-a", "--filter", "name=^created1$"}, []string{"created1"}},
			{[]string{"-a", "--filter", "name=1"}, []string{"up1", "created1"}},
			{[]string{"-a", "--filter", "label=role"}, []string{"up1", "exited3"}},
			{[]string{"-a", "--filter", "label=role=a"}, []string{"exited3"}},
			{[]string{"--filter", "status=exited"}, []string{"exited3"}},
			{[]string{"--filter", "status=created"}, []string{"created1"}},
			{[]string{"--filter", "status=running"}, []string{"up1"}},
			{[]string{"-a", "--filter", "ancestor=busybox"}, all},
			{[]string{"-a", "--filter", "ancestor=busybox:latest"}, all},
			{[]string{"-a", "--filter", "ancestor=" + busybox.ID}, all},
			{[]string{"-a", "--filter", "ancestor=nginx"}, nil},
			{[]string{"-a", "--filter", "exited=3"}, []string{"exited3"}},
			{[]string{"-a", "--filter", "exited=0"}, nil},
			{[]string{"-a", "--filter", "before=created1"}, []string{"exited3"}},
			{[]string{"-a", "--filter", "since=exited3"}, []string{"up1", "created1"}},
			{[]string{"-a", "-f", "label=role", "-f", "status=running"}, []string{"up1"}},
		} {
			if got := e.psNames(c.args...); !slices.Equal(got, c.want) {
				t.Errorf("ps %s: %v, want %v", strings.Join(c.args, " "), got, c.want)
			}
		}
		e.nerdFail(1, []string{"ps", "--filter", "bogus=1"}, `invalid filter`)
		e.nerdFail(1, []string{"ps", "--filter", "status=bogus"}, `invalid filter`)
	})
	t.Run("format", func(t *testing.T) {
		e := e.sub(t)
		r := e.nerdOK("ps", "-a", "--format", "{{.Names}} {{.Label \"role\"}} {{.State}}")
		if got, want := r.Lines(), []string{"up1 b running", "created1  created", "exited3 a exited"}; !slices.Equal(got, want) {
			t.Errorf("template: %q, want %q", got, want)
		}
		r = e.nerdOK("ps", "--format", "table {{.Names}}\t{{.Image}}")
		header, rows := psTable(t, r.Stdout)
		if !slices.Equal(header, []string{"NAMES", "IMAGE"}) || len(rows) != 1 || rows[0]["NAMES"] != "up1" || rows[0]["IMAGE"] != "busybox" {
			t.Errorf("table format:\n%s", r)
		}
		if got := e.nerdOK("ps", "--no-trunc", "--format", "{{.ID}}").Lines(); !slices.Equal(got, []string{up}) {
			t.Errorf("--no-trunc --format {{.ID}}: %v", got)
		}
		objs := e.psJSON("-a")
		if len(objs) != 3 {
			t.Fatalf("ps --format json: %d objects, want 3", len(objs))
		}
		o := objs[0]
		for _, k := range []string{"Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports", "RunningFor", "State", "Status"} {
			if _, ok := o[k]; !ok {
				t.Errorf("ps --format json lacks %s: %v", k, o)
			}
		}
		if o["ID"] != up[:12] || o["Names"] != "up1" || o["Image"] != "busybox" || o["State"] != "running" || o["Labels"] != "role=b" {
			t.Errorf("ps --format json: %v", o)
		}
		if s, _ := o["Status"].(string); !upRe.MatchString(s) {
			t.Errorf("json Status %q", s)
		}
	})
	t.Run("container-ls", func(t *testing.T) {
		e := e.sub(t)
		if got := e.nerdOK("container", "ls", "-a", "--format", "{{.Names}}").Lines(); !slices.Equal(got, all) {
			t.Errorf("container ls -a: %v", got)
		}
	})
}
