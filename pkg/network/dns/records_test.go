package dns

import (
	"errors"
	"io/fs"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWriteReadRecordsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.json")
	want := &Records{
		Names:           map[string][]string{"web": {"10.78.3.2"}},
		Upstreams:       []string{"127.0.0.53:53"},
		ClientUpstreams: map[string][]string{"10.78.3.2": {"9.9.9.9:53"}},
	}
	if err := WriteRecords(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestReadRecordsMissingIsNotExist(t *testing.T) {
	_, err := ReadRecords(filepath.Join(t.TempDir(), "none.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want an fs.ErrNotExist", err)
	}
}

func TestCompileIsLenientAndNormalises(t *testing.T) {
	tab, errs := compile(&Records{
		Names: map[string][]string{
			"Web.":   {"10.78.3.2", "not-an-ip", "fd00::2"},
			"web":    {"10.78.3.2"},
			"db.net": {"::ffff:10.78.3.3"},
		},
		Upstreams:       []string{"192.0.2.53", "[2001:db8::53]:5353", "10.78.3.1:53", "bogus:port"},
		ClientUpstreams: map[string][]string{"10.78.3.2": {"192.0.2.54"}, "nope": {"192.0.2.55"}},
	}, "10.78.3.1:53")
	if len(errs) != 4 { // not-an-ip, fd00::2, bogus:port, nope
		t.Errorf("got %d errors %v, want 4", len(errs), errs)
	}
	if ips, ok := tab.lookup("WEB."); !ok || len(ips) != 1 {
		t.Errorf("WEB.: got %v, want the one (deduplicated) address", ips)
	}
	if ips, _ := tab.lookup("db.net"); len(ips) != 1 || ips[0] != netip.MustParseAddr("10.78.3.3") {
		t.Errorf("db.net: got %v, want 10.78.3.3 (unmapped)", ips)
	}
	wantUps := []string{"192.0.2.53:53", "[2001:db8::53]:5353"} // our own address dropped
	if !reflect.DeepEqual(tab.upstreams, wantUps) {
		t.Errorf("upstreams: got %v, want %v", tab.upstreams, wantUps)
	}
	if ups := tab.upstreamsFor(netip.MustParseAddr("10.78.3.2")); !reflect.DeepEqual(ups, []string{"192.0.2.54:53"}) {
		t.Errorf("client upstreams: got %v", ups)
	}
	if ups := tab.upstreamsFor(netip.MustParseAddr("10.78.3.7")); !reflect.DeepEqual(ups, wantUps) {
		t.Errorf("other client: got %v, want the network's", ups)
	}
}

func TestParseReverse(t *testing.T) {
	if ip, ok := parseReverse("4.3.78.10.IN-ADDR.ARPA."); !ok || ip != netip.MustParseAddr("10.78.3.4") {
		t.Errorf("got %v %v", ip, ok)
	}
	for _, bad := range []string{"3.78.10.in-addr.arpa.", "256.3.78.10.in-addr.arpa.", "4.3.78.10.ip6.arpa.", "web."} {
		if _, ok := parseReverse(bad); ok {
			t.Errorf("%s: parsed", bad)
		}
	}
}
