package inspect

import (
	"sort"

	"github.com/google/nftables"
)

// nftFamilies names nftables' address families as `nft list tables` does.
var nftFamilies = map[nftables.TableFamily]string{
	nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6",
	nftables.TableFamilyARP: "arp", nftables.TableFamilyNetdev: "netdev", nftables.TableFamilyBridge: "bridge",
}

// nftTables lists the namespace's nftables tables ("ip nslua-lab1"), as
// `nft list tables` does: whether anything filters or NATs there. It must
// run on a thread inside the namespace (the socket is made there: asking
// nftables to enter the namespace itself costs a thread per call). A
// kernel without nf_tables has none to list.
func nftTables() []string {
	c, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return []string{}
	}
	defer c.CloseLasting()
	tables, err := c.ListTables()
	out := []string{}
	if err != nil {
		return out
	}
	for _, t := range tables {
		out = append(out, nftFamilies[t.Family]+" "+t.Name)
	}
	sort.Strings(out)
	return out
}
