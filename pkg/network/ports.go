package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
)

// ErrPortInUse wraps a host port that cannot be bound.
var ErrPortInUse = errors.New("port is already allocated")

// Reservation holds the sockets of a container's published host ports.
// nerd hands them to the container's monitor, which keeps them open while
// the container lives: the ports show as taken to every other program (and
// to the next `nerd run -p` of any data root), while the DNAT rules carry
// the traffic to the container.
type Reservation struct {
	Files []*os.File
}

// Close releases the sockets (the monitor holds its own copies).
func (r *Reservation) Close() {
	if r == nil {
		return
	}
	for _, f := range r.Files {
		f.Close()
	}
}

// Reserve resolves the published ports of the container in dir (random
// host ports are picked here, once, and reused by later starts while they
// are free), binds them, and records them in the attachment. A port that
// is taken fails the start before the container exists, with Docker's
// message.
func (m *Manager) Reserve(ctx context.Context, dir string, rec *container.Record) (*Reservation, error) {
	wanted := Wanted(rec)
	l, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	a, err := ReadAttachment(dir)
	if err != nil {
		return nil, err
	}
	prev := map[string]int{}
	for _, p := range a.Ports {
		prev[portKey(p)] = p.HostPort
	}
	res := &Reservation{}
	var got []PortMapping
	for _, p := range wanted {
		lo, hi := p.HostPort, p.HostPortEnd
		if hp := prev[portKey(p)]; hp != 0 && (lo == 0 || hi > lo && hp >= lo && hp <= hi) {
			q := p
			q.HostPort, q.HostPortEnd = hp, 0
			if f, err := bindPort(q); err == nil {
				res.Files = append(res.Files, f)
				got = append(got, q)
				continue
			}
		}
		if hi > lo {
			var f *os.File
			err := ErrPortInUse
			for hp := lo; hp <= hi && f == nil; hp++ {
				q := p
				q.HostPort, q.HostPortEnd = hp, 0
				if f, err = bindPort(q); err == nil {
					res.Files = append(res.Files, f)
					got = append(got, q)
				}
			}
			if f == nil {
				res.Close()
				return nil, fmt.Errorf("driver failed programming external connectivity on endpoint %s (%s): failed to bind port %s:%d-%d/%s: Error starting userland proxy: %w",
					rec.Name, rec.ID[:12], hostIPOrAny(p.HostIP), lo, hi, p.Protocol, err)
			}
			continue
		}
		f, port, err := bindPortResolve(p)
		if err != nil {
			res.Close()
			return nil, fmt.Errorf("driver failed programming external connectivity on endpoint %s (%s): failed to bind port %s:%d/%s: Error starting userland proxy: %w",
				rec.Name, rec.ID[:12], hostIPOrAny(p.HostIP), p.HostPort, p.Protocol, err)
		}
		p.HostPort = port
		res.Files = append(res.Files, f)
		got = append(got, p)
	}
	a.ContainerID, a.Name, a.Ports = rec.ID, rec.Name, got
	if err := writeAttachment(dir, a); err != nil {
		res.Close()
		return nil, err
	}
	return res, nil
}

func portKey(p PortMapping) string {
	return fmt.Sprintf("%s/%d/%s", p.HostIP, p.ContainerPort, p.Protocol)
}

func hostIPOrAny(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}

// Wanted are the mappings the record asks for (-p, and -P for the exposed
// ports not published otherwise), host port 0 meaning "pick one".
func Wanted(rec *container.Record) []PortMapping {
	var out []PortMapping
	add := func(key string, b container.PortBinding) {
		port, proto := SplitPortProto(key)
		cp, err := strconv.Atoi(port)
		if err != nil {
			return
		}
		lo, hi, _ := strings.Cut(b.HostPort, "-")
		hp, _ := strconv.Atoi(lo)
		end, _ := strconv.Atoi(hi)
		if end <= hp {
			end = 0
		}
		out = append(out, PortMapping{HostIP: b.HostIP, HostPort: hp, HostPortEnd: end, ContainerPort: cp, Protocol: proto})
	}
	keys := make([]string, 0, len(rec.HostConfig.PortBindings))
	for k := range rec.HostConfig.PortBindings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		bs := rec.HostConfig.PortBindings[k]
		if len(bs) == 0 {
			bs = []container.PortBinding{{}}
		}
		for _, b := range bs {
			add(k, b)
		}
	}
	if rec.HostConfig.PublishAllPorts {
		var exp []string
		for k := range rec.Config.ExposedPorts {
			if _, ok := rec.HostConfig.PortBindings[k]; !ok {
				exp = append(exp, k)
			}
		}
		sort.Strings(exp)
		for _, k := range exp {
			add(k, container.PortBinding{})
		}
	}
	return out
}

// SplitPortProto splits "80/tcp" (protocol defaults to tcp).
func SplitPortProto(s string) (port, proto string) {
	port, proto, _ = strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	return port, strings.ToLower(proto)
}

func bindPort(p PortMapping) (*os.File, error) {
	f, _, err := bindPortResolve(p)
	return f, err
}

// bindPortResolve binds p's host side (port 0: any free port) and returns
// the socket as a file and the port bound.
func bindPortResolve(p PortMapping) (*os.File, int, error) {
	addr := net.JoinHostPort(hostIPOrAny(p.HostIP), strconv.Itoa(p.HostPort))
	switch p.Protocol {
	case "udp":
		ua, err := net.ResolveUDPAddr("udp4", addr)
		if err != nil {
			return nil, 0, err
		}
		c, err := net.ListenUDP("udp4", ua)
		if err != nil {
			return nil, 0, err
		}
		defer c.Close()
		f, err := c.File()
		return f, c.LocalAddr().(*net.UDPAddr).Port, err
	default:
		ta, err := net.ResolveTCPAddr("tcp4", addr)
		if err != nil {
			return nil, 0, err
		}
		l, err := net.ListenTCP("tcp4", ta)
		if err != nil {
			return nil, 0, err
		}
		defer l.Close()
		f, err := l.File()
		return f, l.Addr().(*net.TCPAddr).Port, err
	}
}

// Ports are the published ports of a running container in Docker's
// NetworkSettings.Ports shape: "80/tcp" → host sides (nil when exposed but
// not published).
func Ports(rec *container.Record, a *Attachment, running bool) map[string][]container.PortBinding {
	out := map[string][]container.PortBinding{}
	for k := range rec.Config.ExposedPorts {
		out[k] = nil
	}
	for k := range rec.HostConfig.PortBindings {
		out[k] = nil
	}
	if !running || a == nil {
		return out
	}
	for _, p := range a.Ports {
		k := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		out[k] = append(out[k], container.PortBinding{HostIP: hostIPOrAny(p.HostIP), HostPort: strconv.Itoa(p.HostPort)})
	}
	return out
}
