package e2e

import (
	"strings"
	"testing"
)

// An image a container uses cannot be removed without -f; with -f it loses
// its names but stays (as <none>) so the container still starts, and
// neither prune nor garbage collection frees it until the container goes.
func TestRmiImageUsedByContainer(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("create", "--name", "keeper", "busybox", "echo", "still-works")

	e.nerdFail(1, []string{"rmi", "busybox"}, `conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image`)
	e.nerdOK("image", "prune", "-a", "-f")
	if ids := e.imageIDs(); len(ids) != 1 {
		t.Fatalf("prune -a removed an image a container uses: %v", ids)
	}

	r := e.nerdOK("rmi", "-f", "busybox")
	if !strings.Contains(r.Stdout, "Untagged: busybox:latest") || strings.Contains(r.Stdout, "Deleted:") {
		t.Fatalf("rmi -f of a used image: %q", r.Stdout)
	}
	rows := e.images()
	if len(rows) != 1 || rows[0]["REPOSITORY"] != "<none>" {
		t.Fatalf("after rmi -f the used image should stay as <none>: %v", rows)
	}
	if out := e.nerdOK("start", "-a", "keeper").Stdout; out != "still-works\n" {
		t.Fatalf("container of a force-untagged image: %q", out)
	}
	e.nerdOK("rm", "keeper")
	e.nerdOK("image", "prune", "-f")
	e.assertEmptyStore()
}
