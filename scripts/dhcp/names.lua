-- nslua.dhcp.names: the host names a lab's DNS server (dhcp.server with
-- dns_names) answers, as a hosts file for dnsmasq's addn-hosts.
--
-- dhcp.names.collect(spec) -> { {name=, ip=}, ... }
--   spec true: every namespace of this lab (ns.inspect's lab field) with each IPv4
--   address of its interfaces but lo; under `nslua test` each name is there with and
--   without the test's prefix (ns.prefix()). spec a list: those namespaces only (names
--   or Netns). spec a map { name = "10.0.0.5", ... }: exactly those names.
-- dhcp.names.hosts(entries) -> string
--   The entries as /etc/hosts lines, sorted by name.

local ns = require("nslua")
local util = require("nslua.util")
util.register(debug.getinfo(1, "S").source)
local raise = util.raise

local names = {}

-- addrs lists the IPv4 addresses of a namespace's interfaces but lo.
local function addrs(info)
	local out = {}
	for _, l in ipairs(info.links or {}) do
		if l.kind ~= "loopback" and l.name ~= "lo" then
			for _, a in ipairs(l.addrs or {}) do
				local ip = a:match("^(%d+%.%d+%.%d+%.%d+)/%d+$")
				if ip then
					out[#out + 1] = ip
				end
			end
		end
	end
	return out
end

local function add(out, name, ips)
	local prefix = ns.prefix()
	for _, ip in ipairs(ips) do
		out[#out + 1] = {name = name, ip = ip}
		if prefix ~= "" and name:sub(1, #prefix) == prefix and #name > #prefix then
			out[#out + 1] = {name = name:sub(#prefix + 1), ip = ip}
		end
	end
end

function names.collect(spec)
	local out = {}
	if spec == true then
		local lab = ns.lab().name
		for name, info in pairs(ns.inspect()) do
			if info.lab == lab then
				add(out, name, addrs(info))
			end
		end
		return out
	end
	if type(spec) ~= "table" then
		raise("dhcp.server: dns_names must be true, a list of namespaces or a map of names to addresses, got %s", type(spec))
	end
	if #spec > 0 then
		for i, v in ipairs(spec) do
			local n = util.netns(v, "dhcp.server: dns_names[" .. i .. "]")
			add(out, n.name, addrs(n:inspect()))
		end
		return out
	end
	for name, ip in pairs(spec) do
		if type(name) ~= "string" or type(ip) ~= "string" or not ip:match("^%d+%.%d+%.%d+%.%d+$") then
			raise("dhcp.server: dns_names: %s = %s is not a name and an IPv4 address", tostring(name), tostring(ip))
		end
		out[#out + 1] = {name = name, ip = ip}
	end
	return out
end

function names.hosts(entries)
	local lines = {}
	for _, e in ipairs(entries) do
		lines[#lines + 1] = util.confval("dhcp.server", "dns name", e.ip .. " " .. e.name)
	end
	table.sort(lines)
	return table.concat(lines, "\n") .. "\n"
end

return names
