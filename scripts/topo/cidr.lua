-- nslua.topo.cidr: IPv4 prefix arithmetic for the topologies of nslua.topo
-- (also reachable as topo.cidr).
--
-- Each function raises on malformed input.
--
-- topo.cidr.parse(cidr) -> {ip=, len=, network=, netmask=, broadcast=, size=}
--   A bare address counts as /32; size counts every address.
-- topo.cidr.host(prefix, i) -> "a.b.c.d"
--   The i-th host: 1 = first usable (10.0.0.1 in 10.0.0.0/24), -1 = last (10.0.0.254).
-- topo.cidr.addr(prefix, i) -> "a.b.c.d/len"
--   cidr.host with the prefix's length.
-- topo.cidr.subnet(prefix, len, i) -> "a.b.c.d/len"
--   The i-th subnet of length len: cidr.subnet("10.0.0.0/16", 24, 3) = "10.0.2.0/24".
-- topo.cidr.hosts(prefix) -> n
--   Host addresses: size - 2 (all of them for /31, /32).
-- topo.cidr.contains(prefix, ip) -> bool
--   ip bare or CIDR.
-- topo.cidr.netmask(len) -> "255.255.255.0"
--   The dotted netmask of a prefix length.
-- topo.cidr.masklen(mask) -> len
--   cidr.masklen("255.255.255.0") = 24; raises on a non-contiguous mask.

local util = require("nslua.util")
util.register(debug.getinfo(1, "S").source)
local raise = util.raise

---------------------------------------------------------------------------
-- CIDR arithmetic (IPv4). Addresses are handled as numbers: a Lua number
-- holds any 32-bit value exactly, and Lua 5.1 has no bit operators anyway.
---------------------------------------------------------------------------

local cidr = {}

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


return cidr
