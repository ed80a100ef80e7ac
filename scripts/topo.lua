-- nslua.topo: ready-made topologies built from nslua's primitives, and a
-- small IPv4 CIDR helper.
--
--   local topo = require("nslua.topo")
--   local s = topo.star{prefix = ns.lab().name .. "-", n = 3}
--   s.leaves[1].ns:exec({"ping", "-c1", s.gateway}, {check = true})
--
-- Every builder takes one options table, names what it creates after
-- opts.prefix (pass something derived from ns.lab().name so that two labs do
-- not collide) and returns what it made: Netns and Link objects plus
-- addresses, bare (field `ip`, "10.0.0.2") and with their prefix length
-- (field `addr`, "10.0.0.2/24"). Teardown is nslua's: everything is in the
-- lab's journal.
--
-- topo.star(opts) -> star
--   A hub namespace with a bridge, and n leaves each joined to it by a veth.
--   opts.prefix     name prefix (required): leaves are PREFIX1..PREFIXn, the hub PREFIXhub
--   opts.n          number of leaves (default #opts.names; one of them is required, >= 1)
--   opts.names      leaf namespace names, e.g. {"alice", "bob"} (default PREFIX1..PREFIXn)
--   opts.subnet     "10.0.0.0/24" (default); the hub takes host 1, leaf i host i+1
--   opts.hub        Netns or name of the hub namespace (default PREFIXhub; opened if pinned)
--   opts.bridge     name of the hub's bridge (default "br0")
--   opts.hub_addr   the bridge's address, e.g. "10.0.0.254/24" (default host 1 of subnet);
--                   false: no address on the bridge (leaf i then takes host i)
--   opts.addrs      leaf addresses in order, e.g. {"10.0.0.10/24", "10.0.0.20/24"}
--                   (default: the next hosts of subnet)
--   opts.leaf_addr  false: leaves get no address (e.g. to be given one by DHCP)
--   opts.leaf_if    name of each leaf's interface (default "eth0")
--   opts.ports      the hub's port names in order (default PORT_PREFIX1..PORT_PREFIXn)
--   opts.port_prefix  prefix of the hub's port names (default "p": p1..pn)
--   opts.route      true: leaves get a default route via the hub's address
--   opts.shape      link:shape table for every hub port (egress towards the leaf; peer = true: both ways)
--   returns star = { hub=Netns, bridge=Link, gateway= (hub's ip, or nil), subnet=,
--                    leaves = { {name=, ns=Netns, link=Link (leaf side),
--                                port=Link (hub side, on the bridge), ip=, addr=}, ... } }
--
-- topo.chain(opts) -> chain
--   n namespaces in a line, each link its own subnet, routed end to end.
--   opts.prefix     name prefix (required): nodes are PREFIX1..PREFIXn
--   opts.n          number of nodes (default #opts.names; one of them is required, >= 2)
--   opts.names      node namespace names in order (default PREFIX1..PREFIXn)
--   opts.subnet     address space the links are carved from (default "10.0.0.0/16")
--   opts.len        prefix length of each link (default 24): link i is cidr.subnet(subnet, len, i)
--   opts.subnets    the links' subnets in order, instead of subnet and len
--   opts.left_if, opts.right_if  interface names (default "left" and "right")
--   opts.route      false: no forwarding and no routes (nodes reach their neighbours only)
--   opts.shape      link:shape table for every link (on node i's right_if; peer = true: both ways)
--   Node i's interface towards node i+1 is right_if, towards node i-1 left_if; on link i
--   node i takes host 1, node i+1 host 2. With routing (the default) inner nodes forward,
--   every node has a default route to the right (the last: to the left) and inner nodes
--   a route to each link further left: every node reaches every other.
--   returns chain = { nodes = { {name=, ns=Netns, left=Link|nil, right=Link|nil,
--                                left_ip=, right_ip=}, ... },
--                     links = { {subnet=, a=Link (node i), b=Link (node i+1), a_ip=, b_ip=}, ... },
--                     first=Netns, last=Netns }
--
-- topo.router(opts) -> net
--   Subnets joined by a router namespace with net.ipv4.ip_forward = 1.
--   opts.prefix     name prefix (required): the router is PREFIXrouter, the hosts of the first
--                   subnet PREFIXa1, PREFIXa2..., of the second PREFIXb1... (up to 26 subnets)
--   opts.subnets    subnets to join (default {"10.0.1.0/24", "10.0.2.0/24"})
--   opts.hosts      hosts per subnet (default 1)
--   opts.router     name of the router namespace (default PREFIXrouter)
--   opts.ifaces     the router's interface names, one per subnet (default {"neta", "netb", ...})
--   opts.gateways   the router's address in each subnet, bare or CIDR (default host 1 of each)
--   opts.host_if    each host's interface name (default "eth0")
--   opts.names      host names per subnet, { {"web", "db"}, {"client"} } (default PREFIXa1...)
--   The router holds the gateway address of each subnet on its interface: a veth to
--   the host when hosts = 1, else a bridge with ports X1, X2... (X the subnet's letter)
--   to the hosts. Host j takes the j-th host address that is not the gateway, and a
--   default route via the router.
--   returns net = { router=Netns,
--                   nets = { {subnet=, gateway=, iface=Link (router side),
--                             hosts = { {name=, ns=Netns, link=Link, ip=, addr=}, ... }}, ... },
--                   left=nets[1], right=nets[2] }
--
-- topo.pairs(opts) -> { pair, ... }
--   n independent two-namespace labs, one veth and one subnet each.
--   opts.prefix     name prefix (required): pair i is PREFIXa<i> and PREFIXb<i>
--   opts.n          number of pairs (default 1)
--   opts.subnet     address space (default "10.0.0.0/16"); pair i uses cidr.subnet(subnet, len, i)
--   opts.len        prefix length of each pair's subnet (default 24; 30 packs the most)
--   opts.a_if, opts.b_if  interface names on the two sides (default "eth0" both)
--   returns { {a=Netns, b=Netns, a_link=Link, b_link=Link, a_ip= (host 1), b_ip= (host 2),
--              subnet=}, ... }
--
-- topo.cidr: IPv4 prefix arithmetic, the module nslua.topo.cidr (see its entries).

local ns = require("nslua")

local util = require("nslua.util")
util.register(debug.getinfo(1, "S").source)
local raise = util.raise

local topo = {}

local cidr = require("nslua.topo.cidr")
topo.cidr = cidr

---------------------------------------------------------------------------
-- helpers shared by the builders
---------------------------------------------------------------------------

local function need(opts, key, kind, fn)
	return util.need(opts, key, kind, fn)
end

-- checkopts refuses a missing options table and unknown keys.
local function checkopts(opts, fn, allowed)
	if type(opts) ~= "table" then
		raise("%s: expected an options table, got %s", fn, type(opts))
	end
	util.opts(fn, opts, allowed)
end

-- nsarg accepts a Netns or a namespace name (opened when pinned, else created).
local function nsarg(v)
	if type(v) ~= "string" then
		return v
	end
	for _, name in ipairs(ns.list()) do
		if name == v then
			return ns.open(v)
		end
	end
	return ns.add(v)
end

-- list reads an optional list of strings, which must have at least n of them.
local function list(opts, key, n, fn)
	local v = opts[key]
	if v == nil then
		return nil
	end
	if type(v) ~= "table" then
		raise("%s: %s must be a list of strings, got %s", fn, key, type(v))
	end
	for i = 1, n do
		if type(v[i]) ~= "string" then
			raise("%s: %s[%d] must be a string (%d needed), got %s", fn, key, i, n, type(v[i]))
		end
	end
	return v
end

-- count is opts.n, or the number of opts.names; they must agree.
local function count(opts, fn, least)
	local n = opts.n
	if n == nil and type(opts.names) == "table" then
		n = #opts.names
	end
	if type(n) ~= "number" then
		raise("%s: option n is required (or a list of names)", fn)
	end
	if n < least or n ~= math.floor(n) then
		raise("%s: n must be a whole number of at least %d, got %s", fn, least, tostring(n))
	end
	list(opts, "names", n, fn)
	return n
end

-- ipof accepts a bare address or a CIDR inside subnet; it returns the bare
-- address and the CIDR with the subnet's length.
local function ipof(v, subnet, fn, what)
	local p = cidr.parse(v)
	if not cidr.contains(subnet, p.ip) then
		raise("%s: %s %s is not in %s", fn, what, v, subnet)
	end
	return p.ip, p.ip .. "/" .. cidr.parse(subnet).len
end

---------------------------------------------------------------------------
-- star
---------------------------------------------------------------------------

local STAR_OPTS = {"prefix", "n", "names", "subnet", "hub", "bridge", "hub_addr", "addrs", "leaf_addr",
	"leaf_if", "ports", "port_prefix", "route", "shape"}

-- star_addrs returns the gateway (or nil) and the leaves' addresses {ip, addr}.
local function star_addrs(opts, n, subnet)
	local fn = "topo.star"
	local gw, gwaddr
	if type(opts.hub_addr) == "string" then
		gw = cidr.parse(opts.hub_addr).ip
		gwaddr = opts.hub_addr
	elseif opts.hub_addr ~= false then
		gw, gwaddr = cidr.host(subnet, 1), cidr.addr(subnet, 1)
	end
	local out = {}
	if opts.leaf_addr == false then
		return gw, gwaddr, out
	end
	local given = list(opts, "addrs", n, fn)
	local next_host = 1
	for i = 1, n do
		if given then
			out[i] = {ipof(given[i], subnet, fn, "address")}
		else
			repeat
				if next_host > cidr.hosts(subnet) then
					raise("%s: %d leaves do not fit in %s (%d hosts)", fn, n, subnet, cidr.hosts(subnet))
				end
				out[i] = {cidr.host(subnet, next_host), cidr.addr(subnet, next_host)}
				next_host = next_host + 1
			until out[i][1] ~= gw
		end
	end
	return gw, gwaddr, out
end

-- topo.star(opts) -> star: see the top of the file.
function topo.star(opts)
	checkopts(opts, "topo.star", STAR_OPTS)
	local prefix = need(opts, "prefix", "string", "topo.star")
	local n = count(opts, "topo.star", 1)
	local subnet = opts.subnet or "10.0.0.0/24"
	local gw, gwaddr, addrs = star_addrs(opts, n, subnet)
	local ports = list(opts, "ports", n, "topo.star")
	local leaf_if = opts.leaf_if or "eth0"

	local hub = nsarg(opts.hub or (prefix .. "hub"))
	-- Built down, up after the last port: a bridge that is up walks all its
	-- ports for every new one and floods each leaf's IPv6 link-local
	-- chatter to all of them (README, benchmark notes).
	local br = hub:bridge(opts.bridge or "br0", {up = false})
	local star = {hub = hub, bridge = br, subnet = subnet, leaves = {}, gateway = gw}
	if gwaddr then
		br:addr(gwaddr)
	end
	for i = 1, n do
		local name = opts.names and opts.names[i] or (prefix .. i)
		local leaf = ns.add(name)
		local vopts = {shape = opts.shape}
		local rec = {name = name, ns = leaf}
		if addrs[i] then
			rec.ip, rec.addr = addrs[i][1], addrs[i][2]
			vopts.peer_addr = rec.addr
		end
		local port = ports and ports[i] or ((opts.port_prefix or "p") .. i)
		rec.port, rec.link = hub:veth(port, leaf, leaf_if, vopts)
		rec.port:master(br)
		if opts.route and star.gateway and rec.ip then
			leaf:route("default", star.gateway)
		end
		star.leaves[i] = rec
	end
	br:up()
	return star
end

---------------------------------------------------------------------------
-- chain
---------------------------------------------------------------------------

-- chain_subnets is the subnet of each of the n - 1 links.
local function chain_subnets(opts, n)
	local given = list(opts, "subnets", n - 1, "topo.chain")
	local space, len = opts.subnet or "10.0.0.0/16", opts.len or 24
	local out = {}
	for i = 1, n - 1 do
		out[i] = given and given[i] or cidr.subnet(space, len, i)
		if cidr.hosts(out[i]) < 2 then
			raise("topo.chain: link %d's subnet %s has room for fewer than 2 hosts", i, out[i])
		end
	end
	return out
end

-- chain_routes makes every node reach every other (see the top of the file).
local function chain_routes(chain, n)
	chain.nodes[1].ns:route("default", chain.links[1].b_ip)
	chain.nodes[n].ns:route("default", chain.links[n - 1].a_ip)
	for j = 2, n - 1 do
		-- default to the right; links further left need explicit routes
		chain.nodes[j].ns:route("default", chain.links[j].b_ip)
		for k = 1, j - 2 do
			chain.nodes[j].ns:route(chain.links[k].subnet, chain.links[j - 1].a_ip)
		end
	end
end

-- topo.chain(opts) -> chain: see the top of the file.
function topo.chain(opts)
	checkopts(opts, "topo.chain", {"prefix", "n", "names", "subnet", "len", "subnets", "left_if", "right_if", "route", "shape"})
	local prefix = need(opts, "prefix", "string", "topo.chain")
	local n = count(opts, "topo.chain", 2)
	local subnets = chain_subnets(opts, n)
	local left_if, right_if = opts.left_if or "left", opts.right_if or "right"
	local routed = opts.route ~= false
	local chain = {nodes = {}, links = {}}
	for i = 1, n do
		local sysctl
		if routed and i > 1 and i < n then
			sysctl = {["net.ipv4.ip_forward"] = 1}
		end
		local name = opts.names and opts.names[i] or (prefix .. i)
		chain.nodes[i] = {name = name, ns = ns.add(name, {sysctl = sysctl})}
	end
	for i = 1, n - 1 do
		local sub = subnets[i]
		local a, b = chain.nodes[i], chain.nodes[i + 1]
		local l = {subnet = sub, a_ip = cidr.host(sub, 1), b_ip = cidr.host(sub, 2)}
		l.a, l.b = a.ns:veth(right_if, b.ns, left_if, {addr = cidr.addr(sub, 1), peer_addr = cidr.addr(sub, 2), shape = opts.shape})
		a.right, a.right_ip = l.a, l.a_ip
		b.left, b.left_ip = l.b, l.b_ip
		chain.links[i] = l
	end
	if routed then
		chain_routes(chain, n)
	end
	chain.first, chain.last = chain.nodes[1].ns, chain.nodes[n].ns
	return chain
end

---------------------------------------------------------------------------
-- router
---------------------------------------------------------------------------

local LETTERS = "abcdefghijklmnopqrstuvwxyz"

local ROUTER_OPTS = {"prefix", "subnets", "hosts", "router", "ifaces", "gateways", "host_if", "names"}

-- router_plan checks the options and returns, per subnet, the gateway
-- {ip, addr} and the hosts' {name, ip, addr}.
local function router_plan(opts, prefix, subnets, per)
	local fn = "topo.router"
	local gws = list(opts, "gateways", #subnets, fn)
	local names = opts.names
	if names ~= nil and type(names) ~= "table" then
		raise("%s: names must be a list of lists of names, got %s", fn, type(names))
	end
	local plan = {}
	for i, s in ipairs(subnets) do
		local x = LETTERS:sub(i, i)
		local gw, gwaddr = cidr.host(s, 1), cidr.addr(s, 1)
		if gws then
			gw, gwaddr = ipof(gws[i], s, fn, "gateway")
		end
		if per + 1 > cidr.hosts(s) then
			raise("%s: %d hosts and a gateway do not fit in %s", fn, per, s)
		end
		local hn = names and names[i] and list(names, i, per, fn) or {}
		local rec = {x = x, gw = gw, gwaddr = gwaddr, hosts = {}}
		local k = 1
		for j = 1, per do
			if cidr.host(s, k) == gw then
				k = k + 1
			end
			rec.hosts[j] = {name = hn[j] or (prefix .. x .. j), ip = cidr.host(s, k), addr = cidr.addr(s, k)}
			k = k + 1
		end
		plan[i] = rec
	end
	return plan
end

-- topo.router(opts) -> net: see the top of the file.
function topo.router(opts)
	checkopts(opts, "topo.router", ROUTER_OPTS)
	local prefix = need(opts, "prefix", "string", "topo.router")
	local subnets = opts.subnets or {"10.0.1.0/24", "10.0.2.0/24"}
	local per = opts.hosts or 1
	if #subnets < 1 or #subnets > #LETTERS then
		raise("topo.router: between 1 and %d subnets, got %d", #LETTERS, #subnets)
	end
	if per < 1 then
		raise("topo.router: hosts must be at least 1")
	end
	local plan = router_plan(opts, prefix, subnets, per)
	local ifaces = list(opts, "ifaces", #subnets, "topo.router")
	local host_if = opts.host_if or "eth0"
	local r = ns.add(opts.router or (prefix .. "router"), {sysctl = {["net.ipv4.ip_forward"] = 1}})
	local net = {router = r, nets = {}}
	for i, s in ipairs(subnets) do
		local p = plan[i]
		local ifname = ifaces and ifaces[i] or ("net" .. p.x)
		local rec = {subnet = s, gateway = p.gw, hosts = {}}
		if per > 1 then
			rec.iface = r:bridge(ifname)
			rec.iface:addr(p.gwaddr)
		end
		for j, h in ipairs(p.hosts) do
			h.ns = ns.add(h.name)
			if per > 1 then
				local port
				port, h.link = r:veth(p.x .. j, h.ns, host_if, {peer_addr = h.addr})
				port:master(rec.iface)
			else
				rec.iface, h.link = r:veth(ifname, h.ns, host_if, {addr = p.gwaddr, peer_addr = h.addr})
			end
			h.ns:route("default", rec.gateway)
			rec.hosts[j] = h
		end
		net.nets[i] = rec
	end
	net.left, net.right = net.nets[1], net.nets[2]
	return net
end

---------------------------------------------------------------------------
-- pairs
---------------------------------------------------------------------------

-- topo.pairs(opts) -> {pair, ...}: see the top of the file.
function topo.pairs(opts)
	checkopts(opts, "topo.pairs", {"prefix", "n", "subnet", "len", "a_if", "b_if"})
	local prefix = need(opts, "prefix", "string", "topo.pairs")
	local n = opts.n or 1
	local space = opts.subnet or "10.0.0.0/16"
	local len = opts.len or 24
	local room = 2 ^ (len - cidr.parse(space).len)
	if n > room then
		raise("topo.pairs: %d pairs do not fit in %s with /%d each (room for %d; try len = 30)",
			n, space, len, room)
	end
	local out = {}
	for i = 1, n do
		local sub = cidr.subnet(space, len, i)
		local p = {subnet = sub, a_ip = cidr.host(sub, 1), b_ip = cidr.host(sub, 2)}
		p.a = ns.add(prefix .. "a" .. i)
		p.b = ns.add(prefix .. "b" .. i)
		p.a_link, p.b_link = p.a:veth(opts.a_if or "eth0", p.b, opts.b_if or "eth0",
			{addr = cidr.addr(sub, 1), peer_addr = cidr.addr(sub, 2)})
		out[i] = p
	end
	return out
end

return topo
