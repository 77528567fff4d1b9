package runcapi

import "testing"

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
		code    int
	}{
		{`unable to start container process: error during container init: exec: "foo": executable file not found in $PATH`, `exec: "foo": executable file not found in $PATH`, 127},
		{`unable to start container process: error during container init: exec: "/x": stat /x: no such file or directory`, `exec: "/x": stat /x: no such file or directory`, 127},
		{`error during container init: exec: "/etc/passwd": permission denied`, `exec: "/etc/passwd": permission denied`, 126},
		{`error during container init: exec: "/etc": is a directory`, `exec: "/etc": is a directory`, 126},
		{`unable to apply cgroup configuration: no such file or directory`, `unable to apply cgroup configuration: no such file or directory`, 125},
	} {
		msg, code := Classify(tc.in)
		if msg != tc.msg || code != tc.code {
			t.Errorf("Classify(%q) = %q %d", tc.in, msg, code)
		}
	}
}
