package network

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// ErrOverlap is a subnet that collides with another network's.
var ErrOverlap = errors.New("Pool overlaps with other one on this address space")

// ipamFor validates a subnet (with optional gateway and ip-range) and
// fills the gateway (the first address) when none is given.
func ipamFor(subnet, gateway, ipRange string) (IPAM, error) {
	ip, sn, err := net.ParseCIDR(subnet)
	if err != nil {
		return IPAM{}, fmt.Errorf("invalid subnet %s: invalid CIDR address: %s", subnet, subnet)
	}
	if ip.To4() == nil {
		return IPAM{}, fmt.Errorf("invalid subnet %s: only IPv4 subnets are supported", subnet)
	}
	ones, bits := sn.Mask.Size()
	if bits-ones < 2 {
		return IPAM{}, fmt.Errorf("invalid subnet %s: too small for a network", subnet)
	}
	c := IPAMConfig{Subnet: sn.String()}
	if gateway != "" {
		gw := net.ParseIP(gateway).To4()
		if gw == nil {
			return IPAM{}, fmt.Errorf("invalid gateway address %s", gateway)
		}
		if !sn.Contains(gw) {
			return IPAM{}, fmt.Errorf("no matching subnet for gateway %s", gateway)
		}
		c.Gateway = gw.String()
	} else {
		c.Gateway = nthIP(sn, 1).String()
	}
	if ipRange != "" {
		_, r, err := net.ParseCIDR(ipRange)
		if err != nil {
			return IPAM{}, fmt.Errorf("invalid ip-range %s: invalid CIDR address: %s", ipRange, ipRange)
		}
		ro, _ := r.Mask.Size()
		if !sn.Contains(r.IP) || ro < ones {
			return IPAM{}, fmt.Errorf("no matching subnet for range %s", ipRange)
		}
		c.IPRange = r.String()
	}
	return IPAM{Driver: "default", Options: map[string]string{}, Config: []IPAMConfig{c}}, nil
}

// allocateIPAM is the subnet of a new user network: the one asked for,
// checked against every other network, or the first free block of the
// pool that overlaps no network and no host route.
func (m *Manager) allocateIPAM(all []*Network, subnet, gateway, ipRange string) (IPAM, error) {
	if subnet != "" {
		ipam, err := ipamFor(subnet, gateway, ipRange)
		if err != nil {
			return IPAM{}, err
		}
		_, sn, _ := net.ParseCIDR(ipam.Config[0].Subnet)
		for _, n := range all {
			if o := n.Subnet(); o != nil && overlaps(o, sn) {
				return IPAM{}, fmt.Errorf("invalid pool request: %w (network %s has %s)", ErrOverlap, n.Name, o)
			}
		}
		return ipam, nil
	}
	if gateway != "" || ipRange != "" {
		return IPAM{}, errors.New("--gateway and --ip-range need --subnet")
	}
	_, pool, _ := net.ParseCIDR(m.opts.Pool)
	po, bits := pool.Mask.Size()
	size := m.opts.PoolSize
	if size < po || size > 30 {
		return IPAM{}, fmt.Errorf("network pool %s cannot be split into /%d subnets", pool, size)
	}
	routes := hostRoutes()
	base := binary.BigEndian.Uint32(pool.IP.To4())
	count := uint32(1) << uint(size-po)
	step := uint32(1) << uint(bits-size)
next:
	for i := uint32(0); i < count; i++ {
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, base+i*step)
		cand := &net.IPNet{IP: ip, Mask: net.CIDRMask(size, 32)}
		for _, n := range all {
			if o := n.Subnet(); o != nil && overlaps(o, cand) {
				continue next
			}
		}
		for _, r := range routes {
			if overlaps(r, cand) {
				continue next
			}
		}
		return ipamFor(cand.String(), "", "")
	}
	return IPAM{}, errors.New("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
}

func overlaps(a, b *net.IPNet) bool { return a.Contains(b.IP) || b.Contains(a.IP) }

// nthIP is the n-th address of a subnet.
func nthIP(sn *net.IPNet, n uint32) net.IP {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, binary.BigEndian.Uint32(sn.IP.To4())+n)
	return ip
}

// lastIP is the last usable address (before the broadcast).
func lastIP(sn *net.IPNet) net.IP {
	ones, bits := sn.Mask.Size()
	return nthIP(&net.IPNet{IP: sn.IP.Mask(sn.Mask), Mask: sn.Mask}, (uint32(1)<<uint(bits-ones))-2)
}

// hostRoutes are the host's IPv4 routes other than the default route, from
// /proc/net/route (a netlink dump would do too; this is one read).
func hostRoutes() []*net.IPNet {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []*net.IPNet
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 8 {
			continue
		}
		dst, err1 := parseHexIP(fl[1])
		mask, err2 := parseHexIP(fl[7])
		if err1 != nil || err2 != nil {
			continue
		}
		m := net.IPMask(mask)
		if ones, _ := m.Size(); ones == 0 {
			continue
		}
		out = append(out, &net.IPNet{IP: dst, Mask: m})
	}
	return out
}

// parseHexIP reads /proc/net/route's little-endian hex addresses.
func parseHexIP(s string) (net.IP, error) {
	var v uint32
	if _, err := fmt.Sscanf(s, "%08X", &v); err != nil {
		return nil, err
	}
	ip := make(net.IP, 4)
	binary.LittleEndian.PutUint32(ip, v)
	return ip, nil
}
