package lab

import (
	"fmt"
	"sort"
	"strings"

	"github.com/safchain/ethtool"

	"github.com/nslua/nslua/internal/nsfs"
)

// offloadFeatures maps `ethtool -K` short names to the kernel's feature
// names (the ones `ethtool -k` lists); "tx" is every tx-checksum-* feature.
var offloadFeatures = map[string][]string{
	"tx":  {"tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-checksum-ipv6", "tx-checksum-sctp", "tx-checksum-fcoe-crc"},
	"rx":  {"rx-checksum"},
	"sg":  {"tx-scatter-gather"},
	"tso": {"tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"},
	"gso": {"tx-generic-segmentation"},
	"gro": {"rx-gro"},
	"lro": {"large-receive-offload"},
}

// OffloadNames are the keys SetOffload takes.
func OffloadNames() []string {
	names := make([]string, 0, len(offloadFeatures))
	for k := range offloadFeatures {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// SetOffload turns offloads on or off, as `ethtool -K NAME tx off`: with
// tx checksum offload off, the kernel computes checksums itself, so that
// a veth never hands a packet with a partial checksum to a DHCP client
// that reads it from a raw socket and drops it.
func (k *Link) SetOffload(want map[string]bool) error {
	err := k.withFeatures(func(e *ethtool.Ethtool, have map[string]ethtool.FeatureState) error {
		change := map[string]bool{}
		for key, on := range want {
			feats, ok := offloadFeatures[key]
			if !ok {
				return fmt.Errorf("unknown offload %q (known: %s)", key, strings.Join(OffloadNames(), ", "))
			}
			for _, f := range feats {
				if have[f].Available { // the others are fixed for this driver
					change[f] = on
				}
			}
		}
		if len(change) == 0 {
			return nil
		}
		return e.Change(k.Name, change)
	})
	if err != nil {
		return fmt.Errorf("offload on %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return nil
}

// Offload reports the short-named offloads: on when any of its features
// is active, as `ethtool -k` shows "tx-checksumming: on".
func (k *Link) Offload() (map[string]bool, error) {
	out := map[string]bool{}
	err := k.withFeatures(func(_ *ethtool.Ethtool, have map[string]ethtool.FeatureState) error {
		for key, feats := range offloadFeatures {
			for _, f := range feats {
				out[key] = out[key] || have[f].Active
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("offload of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return out, nil
}

// withFeatures calls fn with an ethtool socket made inside the link's
// namespace (the ioctl acts on the socket's namespace) and the link's
// features.
func (k *Link) withFeatures(fn func(*ethtool.Ethtool, map[string]ethtool.FeatureState) error) error {
	fd, err := k.NS.Fd()
	if err != nil {
		return err
	}
	return nsfs.Do(fd, func() error {
		e, err := ethtool.NewEthtool()
		if err != nil {
			return err
		}
		defer e.Close()
		have, err := e.FeaturesWithState(k.Name)
		if err != nil {
			return err
		}
		return fn(e, have)
	})
}
