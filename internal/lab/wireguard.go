package lab

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/nslua/nslua/internal/nsfs"
)

// WgPeer is one WireGuard peer.
type WgPeer struct {
	PublicKey    string
	PresharedKey string
	Endpoint     string   // "10.0.0.2:51820"
	AllowedIPs   []string // prefixes routed to this peer
	Keepalive    int      // seconds, 0 = off
}

// WgOptions configure a WireGuard link.
type WgOptions struct {
	PrivateKey string // base64, as `wg genkey` prints it
	ListenPort int
	Peers      []WgPeer
}

// Wireguard creates a WireGuard link (`ip link add NAME type wireguard`)
// and configures it over WireGuard's generic netlink family, as `wg
// setconf` does, from a thread inside the namespace.
func (n *Netns) Wireguard(name string, w WgOptions, o LinkOptions) (*Link, error) {
	cfg, err := wgConfig(w)
	if err != nil {
		return nil, fmt.Errorf("wireguard %q: %w", name, err)
	}
	// configured before it goes up: it must not exist unconfigured and up
	down := o
	down.Down = true
	k, err := n.addLink("wireguard", &netlink.Wireguard{LinkAttrs: newAttrs(name)}, down)
	if err != nil {
		return nil, err
	}
	fd, err := k.NS.Fd()
	if err == nil {
		err = nsfs.Do(fd, func() error {
			c, err := wgctrl.New()
			if err != nil {
				return err
			}
			defer c.Close()
			return c.ConfigureDevice(name, cfg)
		})
	}
	if err == nil && !o.Down {
		err = k.SetUp(true)
	}
	if err != nil {
		k.Delete()
		return nil, fmt.Errorf("wireguard %q: configure: %w", name, err)
	}
	return k, nil
}

func wgConfig(w WgOptions) (wgtypes.Config, error) {
	var cfg wgtypes.Config
	if w.PrivateKey != "" {
		key, err := wgtypes.ParseKey(w.PrivateKey)
		if err != nil {
			return cfg, fmt.Errorf("private_key: %w", err)
		}
		cfg.PrivateKey = &key
	}
	if w.ListenPort < 0 || w.ListenPort > 65535 {
		return cfg, fmt.Errorf("listen_port %d is out of range", w.ListenPort)
	}
	if w.ListenPort != 0 {
		cfg.ListenPort = &w.ListenPort
	}
	cfg.ReplacePeers = true
	for i, p := range w.Peers {
		pc, err := wgPeer(p)
		if err != nil {
			return cfg, fmt.Errorf("peers[%d]: %w", i+1, err)
		}
		cfg.Peers = append(cfg.Peers, pc)
	}
	return cfg, nil
}

func wgPeer(p WgPeer) (wgtypes.PeerConfig, error) {
	var pc wgtypes.PeerConfig
	var err error
	if pc.PublicKey, err = wgtypes.ParseKey(p.PublicKey); err != nil {
		return pc, fmt.Errorf("public_key: %w", err)
	}
	if p.PresharedKey != "" {
		psk, err := wgtypes.ParseKey(p.PresharedKey)
		if err != nil {
			return pc, fmt.Errorf("preshared_key: %w", err)
		}
		pc.PresharedKey = &psk
	}
	if p.Endpoint != "" {
		host, port, err := net.SplitHostPort(p.Endpoint)
		ip := net.ParseIP(host)
		pn, perr := strconv.Atoi(port)
		if err != nil || ip == nil || perr != nil {
			return pc, fmt.Errorf("endpoint %q is not IP:port", p.Endpoint)
		}
		pc.Endpoint = &net.UDPAddr{IP: ip, Port: pn}
	}
	for _, a := range p.AllowedIPs {
		_, ipnet, err := net.ParseCIDR(a)
		if err != nil {
			return pc, fmt.Errorf("allowed_ips: %q is not a prefix", a)
		}
		pc.AllowedIPs = append(pc.AllowedIPs, *ipnet)
	}
	pc.ReplaceAllowedIPs = true
	if p.Keepalive > 0 {
		d := time.Duration(p.Keepalive) * time.Second
		pc.PersistentKeepaliveInterval = &d
	}
	return pc, nil
}

// WgKey makes a WireGuard key pair, as `wg genkey | tee priv | wg pubkey`.
func WgKey() (private, public string, err error) {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return "", "", err
	}
	return k.String(), k.PublicKey().String(), nil
}
