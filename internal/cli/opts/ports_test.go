package opts

import (
	"strings"
	"testing"
)

func TestParsePortSpecs(t *testing.T) {
	exp, b, err := ParsePortSpecs([]string{"8080:80", "127.0.0.1::53/udp", "9000-9001:90-91", "7000", "6000-6010:60"})
	if err != nil {
		t.Fatal(err)
	}
	if got := b["60/tcp"]; len(got) != 1 || got[0].HostPort != "6000-6010" {
		t.Errorf("60/tcp: %+v", got)
	}
	if len(exp) != 6 {
		t.Errorf("exposed %v", exp)
	}
	if got := b["80/tcp"]; len(got) != 1 || got[0].HostPort != "8080" || got[0].HostIP != "" {
		t.Errorf("80/tcp: %+v", got)
	}
	if got := b["53/udp"]; len(got) != 1 || got[0].HostPort != "" || got[0].HostIP != "127.0.0.1" {
		t.Errorf("53/udp: %+v", got)
	}
	if got := b["91/tcp"]; len(got) != 1 || got[0].HostPort != "9001" {
		t.Errorf("91/tcp: %+v", got)
	}
	for spec, want := range map[string]string{
		"80:abc": "invalid containerPort", "x:80": "invalid hostPort", "1.2.3:80:80": "invalid ip address",
		"1-3:4-5": "invalid ranges", "1:4-5": "invalid ranges", "80/foo": "invalid proto", "a:b:c:d": "invalid port format", "0": "invalid containerPort",
	} {
		if _, _, err := ParsePortSpecs([]string{spec}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", spec, err, want)
		}
	}
}

func TestValidateExtraHost(t *testing.T) {
	for _, ok := range []string{"a:1.2.3.4", "a=1.2.3.4", "gw:host-gateway", "v6:[::1]"} {
		if err := ValidateExtraHost(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"a", "a:", ":1.2.3.4", "a:notip"} {
		if err := ValidateExtraHost(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
