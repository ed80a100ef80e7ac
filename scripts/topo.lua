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
--   opts.n          number of leaves (required, >= 1)
--   opts.subnet     "10.0.0.0/24" (default); the hub takes host 1, leaf i host i+1
--   opts.hub        Netns or name of the hub namespace (default PREFIXhub; opened if pinned)
--   opts.bridge     name of the hub's bridge (default "br0")
--   opts.hub_addr   false: no address on the bridge (leaf i then takes host i)
--   opts.leaf_addr  false: leaves get no address (e.g. to be given one by DHCP)
--   opts.leaf_if    name of each leaf's interface (default "eth0"); hub ports are p1..pn
--   opts.route      true: leaves get a default route via the hub's address
--   opts.shape      link:shape table for every hub port (egress towards the leaf; peer = true: both ways)
--   returns star = { hub=Netns, bridge=Link, gateway= (hub's ip, or nil), subnet=,
--                    leaves = { {name=, ns=Netns, link=Link (leaf side),
--                                port=Link (hub side, on the bridge), ip=, addr=}, ... } }
--
-- topo.chain(opts) -> chain
--   n namespaces in a line, each link its own subnet, routed end to end.
--   opts.prefix     name prefix (required): nodes are PREFIX1..PREFIXn
--   opts.n          number of nodes (required, >= 2)
--   opts.subnet     address space the links are carved from (default "10.0.0.0/16")
--   opts.len        prefix length of each link (default 24): link i is cidr.subnet(subnet, len, i)
--   opts.route      false: no forwarding and no routes (nodes reach their neighbours only)
--   opts.shape      link:shape table for every link (on node i's "right"; peer = true: both ways)
--   Node i's interface towards node i+1 is "right", towards node i-1 "left"; on link i
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
--   The router holds host 1 of each subnet on "netX" (X the subnet's letter): a veth to
--   the host when hosts = 1, else a bridge with ports X1, X2... to the hosts. Host j takes
--   host j+1 and a default route via the router.
--   returns net = { router=Netns,
--                   nets = { {subnet=, gateway=, iface=Link (router side),
--                             hosts = { {name=, ns=Netns, link=Link, ip=, addr=}, ... }}, ... },
--                   left=nets[1], right=nets[2] }
--
-- topo.pairs(opts) -> { pair, ... }
--   n independent two-namespace labs, one veth ("eth0" on both sides) and one subnet each.
--   opts.prefix     name prefix (required): pair i is PREFIXa<i> and PREFIXb<i>
--   opts.n          number of pairs (default 1)
--   opts.subnet     address space (default "10.0.0.0/16"); pair i uses cidr.subnet(subnet, len, i)
--   opts.len        prefix length of each pair's subnet (default 24; 30 packs the most)
--   returns { {a=Netns, b=Netns, a_link=Link, b_link=Link, a_ip= (host 1), b_ip= (host 2),
--              subnet=}, ... }
--
-- topo.cidr: IPv4 prefix arithmetic (raises on malformed input)
--   cidr.parse(cidr) -> {ip=, len=, network=, netmask=, broadcast=, size=}
--                       a bare address counts as /32; size counts every address
--   cidr.host(prefix, i) -> "a.b.c.d"      the i-th host: 1 = first usable (10.0.0.1 in
--                                           10.0.0.0/24), -1 = last (10.0.0.254)
--   cidr.addr(prefix, i) -> "a.b.c.d/len"  the same with the prefix's length
--   cidr.subnet(prefix, len, i) -> "a.b.c.d/len"  the i-th subnet of length len:
--                                           cidr.subnet("10.0.0.0/16", 24, 3) = "10.0.2.0/24"
--   cidr.hosts(prefix) -> n                 host addresses: size - 2 (all of them for /31, /32)
--   cidr.contains(prefix, ip) -> bool       ip bare or CIDR
--   cidr.netmask(len) -> "255.255.255.0";  cidr.masklen("255.255.255.0") -> 24

local ns = require("nslua")

local util = require("nslua.util")
util.register(debug.getinfo(1, "S").source)
local raise = util.raise

local topo = {}

---------------------------------------------------------------------------
-- CIDR arithmetic (IPv4). Addresses are handled as numbers: a Lua number
-- holds any 32-bit value exactly, and Lua 5.1 has no bit operators anyway.
---------------------------------------------------------------------------

local cidr = {}
topo.cidr = cidr

local TWO32 = 4294967296

-- toint("10.0.0.1") -> 167772161, or nil and why.
local function toint(ip)
	if type(ip) ~= "string" then
		return nil, "not a string"
	end
	local a, b, c, d = ip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	if not a then
		return nil, "not a dotted IPv4 address"
	end
	local n = 0
	for _, part in ipairs({a, b, c, d}) do
		local v = tonumber(part)
		if v > 255 then
			return nil, "octet " .. part .. " is over 255"
		end
		n = n * 256 + v
	end
	return n
end

local function tostr(n)
	local o = {}
	for i = 4, 1, -1 do
		o[i] = tostring(n % 256)
		n = math.floor(n / 256)
	end
	return table.concat(o, ".")
end

-- cidr.parse(cidr) -> {ip=, len=, network=, netmask=, broadcast=, size=}
--   cidr  "10.0.0.5/24"; a bare address counts as /32
--   Raises on anything else. size counts every address, network and broadcast included.
function cidr.parse(s)
	if type(s) ~= "string" then
		raise("cidr: expected a string like \"10.0.0.0/24\", got %s", type(s))
	end
	local ip, len = s:match("^([%d%.]+)/(%d+)$")
	if not ip then
		ip, len = s, "32"
	end
	local n, why = toint(ip)
	if not n then
		raise("cidr %q: %s", s, why)
	end
	len = tonumber(len)
	if len > 32 then
		raise("cidr %q: prefix length %d is over 32", s, len)
	end
	local size = 2 ^ (32 - len)
	local net = n - n % size
	return {
		ip = ip,
		len = len,
		network = tostr(net),
		netmask = tostr(TWO32 - size),
		broadcast = tostr(net + size - 1),
		size = size,
		-- numeric forms, for the other helpers
		_ip = n,
		_net = net,
	}
end

-- cidr.hosts(prefix) -> number of host addresses: size - 2 up to /30; all of them for /31 and /32
function cidr.hosts(prefix)
	local p = cidr.parse(prefix)
	if p.len >= 31 then
		return p.size
	end
	return p.size - 2
end

local function hostint(prefix, i)
	local p = cidr.parse(prefix)
	local count = cidr.hosts(prefix)
	if type(i) ~= "number" or i ~= math.floor(i) or i == 0 then
		raise("cidr.host(%q, %s): the index must be a non-zero integer", prefix, tostring(i))
	end
	local k = i
	if k < 0 then
		k = count + 1 + k
	end
	if k < 1 or k > count then
		raise("cidr.host(%q, %d): %s has only %d host addresses", prefix, i, prefix, count)
	end
	local first = p._net
	if p.len < 31 then
		first = first + 1 -- skip the network address
	end
	return first + k - 1, p
end

-- cidr.host(prefix, i) -> "a.b.c.d"
--   i = 1 is the first usable address (10.0.0.1 in 10.0.0.0/24), -1 the last (10.0.0.254).
--   Raises when the prefix has fewer than |i| hosts.
function cidr.host(prefix, i)
	return tostr((hostint(prefix, i)))
end

-- cidr.addr(prefix, i) -> "a.b.c.d/len", the i-th host with the prefix's length
function cidr.addr(prefix, i)
	local n, p = hostint(prefix, i)
	return tostr(n) .. "/" .. p.len
end

-- cidr.subnet(prefix, len, i) -> "a.b.c.d/len"
--   The i-th (from 1) subnet of length len inside prefix: cidr.subnet("10.0.0.0/16", 24, 3) is "10.0.2.0/24".
function cidr.subnet(prefix, len, i)
	local p = cidr.parse(prefix)
	if type(len) ~= "number" or len < p.len or len > 32 then
		raise("cidr.subnet(%q, %s): length must be between %d and 32", prefix, tostring(len), p.len)
	end
	local count = 2 ^ (len - p.len)
	if type(i) ~= "number" or i < 1 or i > count or i ~= math.floor(i) then
		raise("cidr.subnet(%q, %d, %s): %s holds subnets 1..%d of length %d",
			prefix, len, tostring(i), prefix, count, len)
	end
	return tostr(p._net + (i - 1) * 2 ^ (32 - len)) .. "/" .. len
end

-- cidr.contains(prefix, ip) -> true when ip (bare or CIDR) lies inside prefix
function cidr.contains(prefix, ip)
	local p = cidr.parse(prefix)
	local q = cidr.parse(ip)
	return q._ip >= p._net and q._ip < p._net + p.size
end

-- cidr.netmask(len) -> dotted netmask; cidr.masklen(mask) -> prefix length (raises on a non-contiguous mask)
function cidr.netmask(len)
	return cidr.parse("0.0.0.0/" .. len).netmask
end

function cidr.masklen(mask)
	local n, why = toint(mask)
	if not n then
		raise("netmask %q: %s", tostring(mask), why)
	end
	for len = 0, 32 do
		if TWO32 - 2 ^ (32 - len) == n then
			return len
		end
	end
	raise("netmask %q is not contiguous", mask)
end

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

---------------------------------------------------------------------------
-- star
---------------------------------------------------------------------------

-- topo.star(opts) -> star: see the top of the file.
function topo.star(opts)
	checkopts(opts, "topo.star", {"prefix", "n", "subnet", "hub", "bridge", "hub_addr", "leaf_addr", "leaf_if", "route", "shape"})
	local prefix = need(opts, "prefix", "string", "topo.star")
	local n = need(opts, "n", "number", "topo.star")
	local subnet = opts.subnet or "10.0.0.0/24"
	local with_hub_addr = opts.hub_addr ~= false
	local first = with_hub_addr and 2 or 1
	if n < 1 then
		raise("topo.star: n must be at least 1")
	end
	if opts.leaf_addr ~= false and first + n - 1 > cidr.hosts(subnet) then
		raise("topo.star: %d leaves do not fit in %s (%d hosts)", n, subnet, cidr.hosts(subnet))
	end
	local leaf_if = opts.leaf_if or "eth0"

	local hub = nsarg(opts.hub or (prefix .. "hub"))
	-- Built down, up after the last port: a bridge that is up walks all its
	-- ports for every new one and floods each leaf's IPv6 link-local
	-- chatter to all of them (README, benchmark notes).
	local br = hub:bridge(opts.bridge or "br0", {up = false})
	local star = {hub = hub, bridge = br, subnet = subnet, leaves = {}}
	if with_hub_addr then
		br:addr(cidr.addr(subnet, 1))
		star.gateway = cidr.host(subnet, 1)
	end
	for i = 1, n do
		local name = prefix .. i
		local leaf = ns.add(name)
		local vopts = {shape = opts.shape}
		local rec = {name = name, ns = leaf}
		if opts.leaf_addr ~= false then
			rec.ip = cidr.host(subnet, first + i - 1)
			rec.addr = cidr.addr(subnet, first + i - 1)
			vopts.peer_addr = rec.addr
		end
		rec.port, rec.link = hub:veth("p" .. i, leaf, leaf_if, vopts)
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

-- topo.chain(opts) -> chain: see the top of the file.
function topo.chain(opts)
	checkopts(opts, "topo.chain", {"prefix", "n", "subnet", "len", "route", "shape"})
	local prefix = need(opts, "prefix", "string", "topo.chain")
	local n = need(opts, "n", "number", "topo.chain")
	local space = opts.subnet or "10.0.0.0/16"
	local len = opts.len or 24
	if n < 2 then
		raise("topo.chain: n must be at least 2")
	end
	local routed = opts.route ~= false
	local chain = {nodes = {}, links = {}}
	for i = 1, n do
		local sysctl
		if routed and i > 1 and i < n then
			sysctl = {["net.ipv4.ip_forward"] = 1}
		end
		chain.nodes[i] = {name = prefix .. i, ns = ns.add(prefix .. i, {sysctl = sysctl})}
	end
	for i = 1, n - 1 do
		local sub = cidr.subnet(space, len, i)
		local a, b = chain.nodes[i], chain.nodes[i + 1]
		local l = {subnet = sub, a_ip = cidr.host(sub, 1), b_ip = cidr.host(sub, 2)}
		l.a, l.b = a.ns:veth("right", b.ns, "left", {addr = cidr.addr(sub, 1), peer_addr = cidr.addr(sub, 2), shape = opts.shape})
		a.right, a.right_ip = l.a, l.a_ip
		b.left, b.left_ip = l.b, l.b_ip
		chain.links[i] = l
	end
	if routed then
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
	chain.first, chain.last = chain.nodes[1].ns, chain.nodes[n].ns
	return chain
end

---------------------------------------------------------------------------
-- router
---------------------------------------------------------------------------

local LETTERS = "abcdefghijklmnopqrstuvwxyz"

-- topo.router(opts) -> net: see the top of the file.
function topo.router(opts)
	checkopts(opts, "topo.router", {"prefix", "subnets", "hosts"})
	local prefix = need(opts, "prefix", "string", "topo.router")
	local subnets = opts.subnets or {"10.0.1.0/24", "10.0.2.0/24"}
	local per = opts.hosts or 1
	if #subnets < 1 or #subnets > #LETTERS then
		raise("topo.router: between 1 and %d subnets, got %d", #LETTERS, #subnets)
	end
	if per < 1 then
		raise("topo.router: hosts must be at least 1")
	end
	for _, s in ipairs(subnets) do
		if per + 1 > cidr.hosts(s) then
			raise("topo.router: %d hosts and a gateway do not fit in %s", per, s)
		end
	end
	local r = ns.add(prefix .. "router", {sysctl = {["net.ipv4.ip_forward"] = 1}})
	local net = {router = r, nets = {}}
	for i, s in ipairs(subnets) do
		local x = LETTERS:sub(i, i)
		local rec = {subnet = s, gateway = cidr.host(s, 1), hosts = {}}
		if per > 1 then
			rec.iface = r:bridge("net" .. x)
			rec.iface:addr(cidr.addr(s, 1))
		end
		for j = 1, per do
			local h = {name = prefix .. x .. j, ip = cidr.host(s, j + 1), addr = cidr.addr(s, j + 1)}
			h.ns = ns.add(h.name)
			if per > 1 then
				local port
				port, h.link = r:veth(x .. j, h.ns, "eth0", {peer_addr = h.addr})
				port:master(rec.iface)
			else
				rec.iface, h.link = r:veth("net" .. x, h.ns, "eth0", {addr = cidr.addr(s, 1), peer_addr = h.addr})
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
	checkopts(opts, "topo.pairs", {"prefix", "n", "subnet", "len"})
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
		p.a_link, p.b_link = p.a:veth("eth0", p.b, "eth0", {addr = cidr.addr(sub, 1), peer_addr = cidr.addr(sub, 2)})
		out[i] = p
	end
	return out
end

return topo
