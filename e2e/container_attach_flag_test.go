package e2e

import "testing"

// run -a picks the streams that are attached; a bad stream name is a flag
// error (125) and creates nothing.
func TestRunAttachFlag(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	script := []string{"busybox", "sh", "-c", "echo out; echo err >&2"}
	r := e.nerdOK(append([]string{"run", "--rm", "-a", "stdout"}, script...)...)
	if r.Stdout != "out\n" || r.Stderr != "" {
		t.Errorf("-a stdout: stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	r = e.nerdOK(append([]string{"run", "--rm", "-a", "stderr"}, script...)...)
	if r.Stdout != "" || r.Stderr != "err\n" {
		t.Errorf("-a stderr: stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	e.nerdFail(125, []string{"run", "-a", "foo", "busybox", "true"}, `valid streams are STDIN, STDOUT and STDERR`)
	if ids := e.containerIDs(); len(ids) != 0 {
		t.Errorf("a bad -a left containers: %v", ids)
	}
}
