package opts

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
)

// ParsePortSpecs parses -p values, [IP:][HOSTPORT:]PORT[/PROTO] with port
// ranges (8000-8001:80-81), into Docker's ExposedPorts and PortBindings
// ("80/tcp" → host sides). A missing host port means a random one, a host
// range for one port (8000-8010:80) the first free port of the range.
func ParsePortSpecs(specs []string) (map[string]struct{}, map[string][]container.PortBinding, error) {
	exposed := map[string]struct{}{}
	bindings := map[string][]container.PortBinding{}
	for _, s := range specs {
		if err := parsePortSpec(s, exposed, bindings); err != nil {
			return nil, nil, err
		}
	}
	return exposed, bindings, nil
}

func parsePortSpec(s string, exposed map[string]struct{}, bindings map[string][]container.PortBinding) error {
	raw, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return fmt.Errorf("invalid proto: %s", proto)
	}
	if proto == "sctp" {
		return fmt.Errorf("invalid proto: %s: only tcp and udp are published by nerd", proto)
	}
	var ip, hostPart, ctrPart string
	parts := strings.Split(raw, ":")
	switch len(parts) {
	case 1:
		ctrPart = parts[0]
	case 2:
		hostPart, ctrPart = parts[0], parts[1]
	case 3:
		ip, hostPart, ctrPart = parts[0], parts[1], parts[2]
	default:
		return fmt.Errorf("invalid port format for --publish: %s", s)
	}
	if ip != "" {
		if p := net.ParseIP(ip); p == nil || p.To4() == nil {
			return fmt.Errorf("invalid ip address: %s", ip)
		}
	}
	if ctrPart == "" {
		return fmt.Errorf("no port specified: %s<empty>", s)
	}
	cStart, cEnd, err := parsePortRange(ctrPart)
	if err != nil {
		return fmt.Errorf("invalid containerPort: %s", ctrPart)
	}
	var hStart, hEnd int
	if hostPart != "" {
		if hStart, hEnd, err = parsePortRange(hostPart); err != nil {
			return fmt.Errorf("invalid hostPort: %s", hostPart)
		}
		// A host range for one container port is Docker's dynamic range:
		// the host port is the first free one of it.
		if hEnd-hStart != cEnd-cStart && cEnd != cStart {
			return fmt.Errorf("invalid ranges specified for container and host Ports: %s and %s", ctrPart, hostPart)
		}
	}
	for i := 0; i <= cEnd-cStart; i++ {
		key := fmt.Sprintf("%d/%s", cStart+i, proto)
		exposed[key] = struct{}{}
		b := container.PortBinding{HostIP: ip}
		switch {
		case hostPart != "" && cEnd == cStart && hEnd != hStart:
			b.HostPort = fmt.Sprintf("%d-%d", hStart, hEnd)
		case hostPart != "":
			b.HostPort = strconv.Itoa(hStart + i)
		}
		bindings[key] = append(bindings[key], b)
	}
	return nil
}

// parsePortRange reads "80" or "8000-8010" (ports 1–65535; a host port 0
// is not a thing a user types).
func parsePortRange(s string) (int, int, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	start, err := strconv.ParseUint(lo, 10, 16)
	if err != nil || start == 0 {
		return 0, 0, fmt.Errorf("invalid port %q", s)
	}
	end := start
	if isRange {
		if end, err = strconv.ParseUint(hi, 10, 16); err != nil || end < start {
			return 0, 0, fmt.Errorf("invalid port range %q", s)
		}
	}
	return int(start), int(end), nil
}

// ParseExposed parses --expose values (80, 80/udp, 8000-8010/tcp).
func ParseExposed(specs []string) (map[string]struct{}, error) {
	out := map[string]struct{}{}
	for _, s := range specs {
		port, proto, _ := strings.Cut(s, "/")
		if proto == "" {
			proto = "tcp"
		}
		start, end, err := parsePortRange(port)
		if err != nil {
			return nil, fmt.Errorf("invalid range format for --expose: %s, error: %w", s, err)
		}
		for p := start; p <= end; p++ {
			out[fmt.Sprintf("%d/%s", p, strings.ToLower(proto))] = struct{}{}
		}
	}
	return out, nil
}

// ValidateExtraHost checks --add-host's host:ip (ip may be host-gateway).
func ValidateExtraHost(s string) error {
	host, ip, found := strings.Cut(s, "=")
	if !found {
		host, ip, found = strings.Cut(s, ":")
	}
	if !found || host == "" || ip == "" {
		return fmt.Errorf("invalid argument %q for \"--add-host\" flag: bad format for add-host: %q", s, s)
	}
	if ip != "host-gateway" && net.ParseIP(strings.Trim(ip, "[]")) == nil {
		return fmt.Errorf("invalid argument %q for \"--add-host\" flag: invalid IP address in add-host: %q", s, ip)
	}
	return nil
}

// ValidateIP checks an address flag (--dns, --ip).
func ValidateIP(s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("%s is not an ip address", s)
	}
	return nil
}
