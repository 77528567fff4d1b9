package e2e

import (
	"slices"
	"strings"
	"testing"
)

func TestTagThenRmi(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	e.nerdOK("tag", "busybox", "mybox:v1")
	e.nerdOK("image", "tag", busybox.ShortID(), "registry.example:5000/team/box")
	rows := e.images()
	for _, rt := range [][2]string{{"busybox", "latest"}, {"mybox", "v1"}, {"registry.example:5000/team/box", "latest"}} {
		if row := findRow(rows, rt[0], rt[1]); row == nil || row["IMAGE ID"] != busybox.ShortID() {
			t.Fatalf("after tag: want %s:%s → %s in %v", rt[0], rt[1], busybox.ShortID(), repoTags(rows))
		}
	}
	if got := e.inspect("mybox:v1").RepoTags; !sameSet(got, []string{"busybox:latest", "mybox:v1", "registry.example:5000/team/box:latest"}) {
		t.Errorf("RepoTags %v", got)
	}

	// Removing one of several tags only untags.
	r := e.nerdOK("rmi", "mybox:v1")
	if r.Stdout != "Untagged: mybox:v1\n" {
		t.Errorf("rmi mybox:v1: stdout %q, want only \"Untagged: mybox:v1\"", r.Stdout)
	}
	e.nerdOK("image", "rm", "registry.example:5000/team/box")
	if got := e.inspect("busybox"); got.Id != busybox.ID {
		t.Fatalf("busybox gone after untagging another name")
	}

	// Removing the last tag deletes the image, and GC empties the store.
	r = e.nerdOK("rmi", "busybox")
	r.wantStdout(t, "Untagged: busybox:latest\n", "Deleted: "+busybox.ID+"\n")
	if strings.Index(r.Stdout, "Untagged:") > strings.Index(r.Stdout, "Deleted:") {
		t.Errorf("Untagged lines come before Deleted lines (Docker):\n%s", r.Stdout)
	}
	e.assertEmptyStore()
}

func TestRmiConflictNeedsForce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	e.nerdOK("tag", "busybox", "other/box:v1")
	id := busybox.ShortID()
	e.nerdFail(1, []string{"rmi", id},
		`conflict: unable to delete `+id+` \(must be forced\) - image is referenced in multiple repositories`)
	if got := repoTags(e.images()); !sameSet(got, []string{"busybox:latest", "other/box:v1"}) {
		t.Fatalf("failed rmi changed the images: %v", got)
	}
	r := e.nerdOK("rmi", "-f", id)
	r.wantStdout(t, "Untagged: busybox:latest\n", "Untagged: other/box:v1\n", "Deleted: "+busybox.ID+"\n")
	e.assertEmptyStore()
}

func TestRmiKeepsSharedLayers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("nginx")
	e.pullOK("debian:bookworm-slim")
	e.nerdOK("rmi", "nginx")
	if got := e.inspect("debian:bookworm-slim"); got.Id != debian.ID {
		t.Fatalf("debian damaged by rmi nginx: %s", got.Id)
	}
	if s := e.committedSnapshots(); len(s) != 1 {
		t.Errorf("after rmi nginx: want debian's 1 snapshot, have %v", s)
	}
	blobs := e.blobs()
	for _, d := range append([]string{debian.ID, debian.Digest}, debian.Layers...) {
		if !slices.Contains(blobs, strings.TrimPrefix(d, "sha256:")) {
			t.Errorf("debian blob %s collected", d)
		}
	}
	for _, d := range []string{nginx.ID, nginx.Digest, nginx.Layers[1]} {
		if slices.Contains(blobs, strings.TrimPrefix(d, "sha256:")) {
			t.Errorf("nginx blob %s not collected", d)
		}
	}
	e.nerdOK("rmi", "debian:bookworm-slim")
	e.assertEmptyStore()
}

func TestRmiErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"rmi", "no-such-image"}, `no such image`)
	e.nerdFail(1, []string{"rmi"}, `requires at least 1 argument`)
	e.nerdFail(125, []string{"rmi", "--bogus", "x"}, `unknown flag`)
	// Several names: the good ones are removed, the bad one fails the command.
	e.pullOK("busybox")
	r := e.nerd("rmi", "busybox", "no-such-image")
	r.wantFailure(t, 1, `no such image`)
	r.wantStdout(t, "Untagged: busybox:latest")
	e.assertEmptyStore()
}

func TestTagErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.nerdFail(1, []string{"tag", "no-such-image", "x:y"}, `no such image`)
	e.pullOK("busybox")
	e.nerdFail(1, []string{"tag", "busybox", "UPPER:case"}, `invalid reference format`)
	e.nerdFail(1, []string{"tag", "busybox", "x@sha256:" + strings.Repeat("a", 64)}, `refusing to create a tag with a digest reference|invalid reference`)
	e.nerdFail(1, []string{"tag", "busybox"}, `requires (exactly )?2 arguments`)
	if got := repoTags(e.images()); !sameSet(got, []string{"busybox:latest"}) {
		t.Errorf("failed tags changed images: %v", got)
	}
	// Moving a tag to another image is allowed (Docker needs no -f).
	e.pullOK("debian:bookworm-slim")
	e.nerdOK("tag", "debian:bookworm-slim", "busybox")
	if got := e.inspect("busybox").Id; got != debian.ID {
		t.Errorf("busybox tag points at %s after moving it to debian", got)
	}
}

func TestImagePrune(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	e.pullOK("debian:bookworm-slim")
	// Moving busybox:latest to debian leaves the old busybox image untagged.
	e.nerdOK("tag", "debian:bookworm-slim", "busybox:latest")
	if got := e.nerdOK("images", "--filter", "dangling=true", "-q", "--no-trunc").Lines(); !sameSet(got, []string{busybox.ID}) {
		t.Fatalf("dangling: %v, want [%s]", got, busybox.ID)
	}
	if row := findRow(e.images(), "<none>", "<none>"); row == nil && findRow(e.images(), "busybox", "<none>") == nil {
		t.Errorf("images shows no untagged row: %v", repoTags(e.images()))
	}

	// Without -f it asks; "n" keeps everything.
	r := e.nerdIn(strings.NewReader("n\n"), "image", "prune")
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "Are you sure you want to continue? [y/N]") {
		t.Errorf("prune prompt:\n%s", r)
	}
	if ids := e.imageIDs(); !sameSet(ids, []string{busybox.ID, debian.ID}) {
		t.Fatalf("answering n removed images: %v", ids)
	}

	r = e.nerdOK("image", "prune", "-f")
	r.wantStdout(t, "Deleted Images:", "deleted: "+busybox.ID, "Total reclaimed space:")
	if ids := e.imageIDs(); !sameSet(ids, []string{debian.ID}) {
		t.Errorf("after prune: %v, want only debian", ids)
	}
	if slices.Contains(e.blobs(), strings.TrimPrefix(busybox.Layers[0], "sha256:")) {
		t.Error("busybox's layer blob survived prune")
	}
	if s := e.committedSnapshots(); len(s) != 1 {
		t.Errorf("after prune: want debian's 1 snapshot, have %v", s)
	}
	// Nothing left to prune.
	r = e.nerdOK("image", "prune", "-f")
	r.wantStdout(t, "Total reclaimed space: 0B")
}

func TestImagePruneAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.pullOK("busybox")
	e.pullOK("nginx")
	r := e.nerdIn(strings.NewReader("y\n"), "image", "prune", "-a")
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "WARNING! This will remove all images without at least one container associated to them.") {
		t.Errorf("prune -a prompt:\n%s", r)
	}
	r.wantStdout(t, "untagged: busybox:latest", "deleted: "+busybox.ID, "deleted: "+nginx.ID, "Total reclaimed space:")
	e.assertEmptyStore()
	e.nerdOK("image", "prune", "-a", "-f")
}
