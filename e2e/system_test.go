package e2e

import (
	"strings"
	"testing"
)

// system df counts images, containers and volumes; -v lists them.
func TestSystemDf(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	e.nerdOK("run", "--name", "df1", "-v", "dfv:/d", "busybox", "sh", "-c", "echo 12345 > /d/f")
	e.nerdOK("volume", "create", "unused")
	r := e.nerdOK("system", "df")
	rows := map[string][]string{}
	for _, l := range r.Lines()[1:] {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "Local Volumes"):
			rows["Local Volumes"] = f[2:]
		case strings.HasPrefix(l, "Build Cache"):
			rows["Build Cache"] = f[2:]
		default:
			rows[f[0]] = f[1:]
		}
	}
	if h := r.Lines()[0]; strings.Join(strings.Fields(h), " ") != "TYPE TOTAL ACTIVE SIZE RECLAIMABLE" {
		t.Errorf("header %q", h)
	}
	if got := rows["Images"]; len(got) < 2 || got[0] != "1" || got[1] != "1" {
		t.Errorf("Images row %v", got)
	}
	if got := rows["Containers"]; len(got) < 2 || got[0] != "1" || got[1] != "0" {
		t.Errorf("Containers row %v", got)
	}
	if got := rows["Local Volumes"]; len(got) < 3 || got[0] != "2" || got[1] != "1" || got[2] != "6B" {
		t.Errorf("Local Volumes row %v\n%s", got, r.Stdout)
	}
	r = e.nerdOK("system", "df", "-v")
	for _, want := range []string{"Images space usage:", "Containers space usage:", "Local Volumes space usage:", "VOLUME NAME", "dfv", "unused", "df1"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("df -v lacks %q:\n%s", want, r.Stdout)
		}
	}
	r = e.nerdOK("system", "df", "--format", "{{.Type}}={{.TotalCount}}")
	if !strings.Contains(r.Stdout, "Local Volumes=2") {
		t.Errorf("df --format: %s", r.Stdout)
	}
}

// system prune: stopped containers and dangling images; --volumes adds
// anonymous volumes, -a unused images; named volumes stay.
func TestSystemPrune(t *testing.T) {
	t.Parallel()
	e := newVolumeEnv(t)
	e.pullOK(debian.Ref)
	e.nerdOK("run", "--name", "stopped", "-v", "/anon", "-v", "named:/n", "busybox", "true")
	up := e.runD(withSleeper("--name", "up", "busybox")...)
	r := e.nerdIn(strings.NewReader("n\n"), "system", "prune", "--volumes")
	if !strings.Contains(r.Stdout, "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - anonymous volumes not used by at least one container\n  - all dangling images\n") {
		t.Errorf("warning:\n%s", r.Stdout)
	}
	if len(e.containerIDs()) != 2 {
		t.Fatalf("answering no pruned something")
	}
	e.nerdOK("network", "create", "unused")
	r = e.nerdOK("system", "prune", "-f")
	if !strings.Contains(r.Stdout, "Deleted Networks:\nunused\n") {
		t.Errorf("system prune did not remove the unused network:\n%s", r.Stdout)
	}
	if e.nerd("network", "inspect", "unused").Code == 0 {
		t.Errorf("network unused survived system prune")
	}
	if !strings.Contains(r.Stdout, "Deleted Containers:") || len(e.volumes()) != 2 {
		t.Errorf("prune without --volumes:\n%s\nvolumes %v", r.Stdout, e.volumes())
	}
	if ids := e.containerIDs(); len(ids) != 1 || ids[0] != up {
		t.Errorf("containers left %v, want the running one", ids)
	}
	e.nerdOK("run", "--name", "stopped2", "-v", "/anon2", "busybox", "true")
	r = e.nerdOK("system", "prune", "-a", "--volumes", "-f")
	if !strings.Contains(r.Stdout, "Deleted Volumes:") || !strings.Contains(r.Stdout, "Deleted Images:") || !strings.Contains(r.Stdout, "Total reclaimed space:") {
		t.Errorf("prune -a --volumes:\n%s", r.Stdout)
	}
	if got := e.volumes(); len(got) != 1 || got[0] != "named" {
		t.Errorf("volumes left %v, want named", got)
	}
	imgs := e.nerdOK("images", "--format", "{{.Repository}}").Lines()
	if len(imgs) != 1 || imgs[0] != "busybox" {
		t.Errorf("images left %v, want busybox (used by the running container)", imgs)
	}
	e.nerdOK("rm", "-f", "up")
}
