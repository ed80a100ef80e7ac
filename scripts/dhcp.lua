-- nslua.dhcp: a DHCP server (dnsmasq) and DHCP clients (busybox udhcpc, ISC
-- dhclient) running inside namespaces.
--
--   local dhcp = require("nslua.dhcp")
--   local srv = dhcp.server(ap, {iface = "br0", dns = "10.0.0.1"})
--   local lease = dhcp.udhcpc(client, "eth0")       -- lease.ip, lease.router, lease.dns
--   for _, l in ipairs(srv:leases()) do print(l.ip, l.mac, l.hostname) end
--
-- Files (configurations, lease files, logs) go to the lab's directory
-- (ns.lab().dir) and disappear with the lab. Processes are nslua Procs:
-- stopped at teardown.
--
-- dhcp.server(n, opts) -> server
--   n                  Netns (or name) the server runs in
--   opts.iface         interface to serve (required); it must already have an IPv4
--                      address: its subnet is the one served
--   opts.range         {first, last}: addresses ("10.0.0.100") or host numbers of that
--                      subnet (100); default: the upper half of the subnet
--   opts.router        option 3; default: dnsmasq's own address on iface; false: none
--   opts.dns           address or list of addresses for option 6 (default: none; with
--                      dns_names, dnsmasq's own address)
--   opts.domain        domain name (option 15)
--   opts.lease_time    seconds (at least 120) or a dnsmasq time such as "1h" (default "1h")
--   opts.hosts         fixed leases: { {mac=, ip=, name=}, ... } (ip: address or host number)
--   opts.dns_names     serve DNS (port 53 on iface) for the lab's names, no upstream: true for
--                      every namespace of the lab, a list of namespaces, or a map
--                      { name = "10.0.0.5" } (see dhcp.names.collect); clients that send a
--                      host name (udhcpc sends the namespace's) resolve too, once leased.
--                      Option 6 then defaults to dnsmasq's own address; with opts.domain,
--                      NAME.DOMAIN resolves as well. server:refresh_names() re-reads them.
--   opts.options       extra dnsmasq.conf lines, e.g. {"dhcp-option=option:ntp-server,10.0.0.1"};
--                      a line whose keyword nslua already wrote once (port=, domain=, ...)
--                      replaces nslua's line; repeatable keywords (dhcp-option, address, ...) add
--   opts.conf          file name under /etc/netns/NAME/ (default "dnsmasq.conf" for the first
--                      server of a namespace, "dnsmasq-IFACE.conf" for the next ones)
--   opts.ready_timeout seconds to wait for dnsmasq to bind UDP port 67 (default 5)
--   opts.tx_offload    true keeps tx checksum offload on a veth or bridge iface; by
--                      default it is turned off (Link:offload): clients reading raw
--                      sockets drop replies whose checksum a veth left partial
--   dnsmasq reads the configuration through the namespace's /etc binding
--   (n:etc(conf) becomes /etc/conf for it); it serves DHCP only (port=0: no DNS) unless
--   opts.dns_names is given,
--   answers at once (no-ping) and logs every exchange to its Proc's log.
--   returns server = { ns=, iface=, subnet=, range={first, last}, conf=, leasefile=, proc=,
--                      hostsfile= (with dns_names: its names, under /etc/netns/NAME) }
--   server:leases() -> { {ip=, mac=, hostname=|nil, client_id=|nil, expires=}, ... }
--                      the current lease file (expires: Unix time, 0 = never)
--   server:refresh_names()  collect opts.dns_names again and make dnsmasq re-read them (SIGHUP)
--   server:stop()      stop dnsmasq (teardown does it anyway)
--
-- dhcp.udhcpc(n, iface [, opts]) -> lease | nil, why
--   busybox udhcpc -f -q -n with the event script nslua ships (udhcpc.script):
--   configures the address and default route, then exits.
--   opts.tries     DHCPDISCOVERs to send before giving up (default 5)
--   opts.interval  seconds between them (default 1)
--   opts.hostname  host name sent to the server (option 12; default: the namespace's name)
--   opts.resolv    true: write the DNS servers into the namespace's own /etc/resolv.conf
--                  (only ever into the /etc/netns copy: never the host's file)
--   opts.check     false: return nil and the reason instead of raising when no lease came
--
-- dhcp.dhclient(n, iface [, opts]) -> lease | nil, why
--   ISC dhclient with Debian's own dhclient-script, in the foreground (-d) as an nslua
--   Proc, so that it is stopped at teardown (lease:stop() stops it earlier); its
--   configuration, lease and pid files live in the lab's directory. It keeps running to
--   renew the lease.
--   Debian's script writes a temporary file next to /etc/resolv.conf, i.e. into the
--   host's /etc, and may set the (host's) host name: nslua binds its own
--   /etc/netns/NAME/dhcp/ directory (with an enter hook that replaces both functions)
--   over /etc/dhcp for the namespace. The host's dhclient hooks do not run there.
--   opts.timeout   seconds to try before giving up (default 10)
--   opts.hostname, opts.resolv, opts.check: as for udhcpc
--
-- dhcp.parse_leases(text) -> { {ip=, mac=, hostname=|nil, client_id=|nil, expires=}, ... }
--   dnsmasq's lease file, as server:leases() reads it
-- dhcp.parse_dhclient_lease(text) -> {ip=, netmask=, routers=, dns=, domain=, lease_time=,
--                                     server=} | nil   the last lease of a dhclient lease file
--
-- Unknown option keys are refused, and so are values with a newline, CR or NUL
-- that would go into a configuration file.
--
-- lease = { ip=, addr= (ip/len), mask= (len), router=|nil, routers={...}, dns={...},
--           domain=|nil, lease_time= (seconds), server=, iface=, ns=, client="udhcpc"|"dhclient",
--           proc= (dhclient only) }
--   lease:stop()   stop the client's process, if it has one

local ns = require("nslua")
local util = require("nslua.util")
local topo = require("nslua.topo")
util.register(debug.getinfo(1, "S").source)
local raise = util.raise
local cidr = topo.cidr

local dhcp = {}
dhcp.names = require("nslua.dhcp.names")

-- ipv4addr returns the first IPv4 CIDR of a link, or nil.
local function ipv4addr(link)
	for _, a in ipairs(link:addrs()) do
		if a:match("^%d+%.%d+%.%d+%.%d+/%d+$") then
			return a
		end
	end
	return nil
end

-- hostaddr turns a host number or an address into an address inside subnet.
local function hostaddr(subnet, v, what)
	if type(v) == "number" then
		return cidr.host(subnet, v)
	end
	if type(v) ~= "string" then
		raise("dhcp.server: %s must be an address or a host number, got %s", what, type(v))
	end
	if not cidr.contains(subnet, v) then
		raise("dhcp.server: %s %s is outside the interface's subnet %s", what, v, subnet)
	end
	return v
end

local function listline(key, values)
	return key .. table.concat(util.list(values), ",")
end

-- REPEATABLE are the dnsmasq keywords that may appear more than once;
-- any other keyword twice is "illegal repeated keyword".
local REPEATABLE = {}
for k in ([[dhcp-option dhcp-option-force dhcp-host dhcp-range address server local interface
	except-interface listen-address addn-hosts host-record cname txt-record srv-host ptr-record
	mx-host dhcp-mac dhcp-match dhcp-vendorclass dhcp-userclass dhcp-ignore tag-if dhcp-boot
	conf-file conf-dir interface-name dhcp-name-match dhcp-circuitid dhcp-remoteid
	dhcp-subscrid rev-server auth-zone]]):gmatch("%S+") do
	REPEATABLE[k] = true
end

local function keyword(line)
	return line:match("^%s*([%w%-]+)")
end

-- merge appends the user's lines to nslua's: a keyword that may appear
-- once replaces nslua's line of it (port=53 for port=0), others add.
local function merge(lines, extra)
	local replaced = {}
	for _, l in ipairs(extra) do
		local k = keyword(l)
		if k and not REPEATABLE[k] then
			replaced[k] = true
		end
	end
	local out = {}
	for _, l in ipairs(lines) do
		if not replaced[keyword(l) or ""] then
			out[#out + 1] = l
		end
	end
	for _, l in ipairs(extra) do
		out[#out + 1] = l
	end
	return out
end

-- conflines builds dnsmasq.conf; every line was checked by hand with dnsmasq 2.90.
-- Every value from opts goes through util.confval: a newline would start a line
-- of the user's choosing.
local function conflines(s, opts)
	local function val(what, v)
		return util.confval("dhcp.server", what, v)
	end
	local lines = {
		"# written by nslua.dhcp for " .. s.ns.name .. "/" .. s.iface,
		"interface=" .. s.iface,
		"bind-interfaces", -- several servers, one per interface, may share a namespace
		"except-interface=lo",
		s.dns and "no-negcache" or "port=0", -- DHCP only, no DNS server, unless asked
		"no-resolv", -- never an upstream: the lab's names only
		"no-hosts",
		("dhcp-range=%s,%s,%s,%s"):format(s.range[1], s.range[2], cidr.parse(s.subnet).netmask, s.lease_time),
		"dhcp-authoritative",
		"no-ping", -- otherwise every new lease waits ~3 s for an ARP probe
		"dhcp-leasefile=" .. s.leasefile,
		"pid-file=" .. s.pidfile,
		"log-facility=-", -- to stderr: the Proc's log
		"log-dhcp",
	}
	if ns.rootless() then
		-- only root is mapped in a rootless lab: dnsmasq cannot drop to nobody/dip
		-- nor call setgroups; its debug mode keeps root and changes no ids
		lines[#lines + 1] = "no-daemon"
	end
	if opts.router == false then
		lines[#lines + 1] = "dhcp-option=option:router"
	elseif opts.router ~= nil then
		lines[#lines + 1] = "dhcp-option=option:router," .. val("router", opts.router)
	end
	if opts.dns ~= nil then
		lines[#lines + 1] = val("dns", listline("dhcp-option=option:dns-server,", opts.dns))
	elseif s.dns then
		lines[#lines + 1] = "dhcp-option=option:dns-server," .. s.ip
	end
	if s.dns then
		lines[#lines + 1] = "addn-hosts=/etc/" .. s.hostsfile
	end
	if opts.domain ~= nil then
		lines[#lines + 1] = "domain=" .. val("domain", opts.domain)
		if s.dns then
			lines[#lines + 1] = "expand-hosts"
			lines[#lines + 1] = "local=/" .. val("domain", opts.domain) .. "/"
		end
	end
	for i, h in ipairs(opts.hosts or {}) do
		if type(h) ~= "table" or not h.mac then
			raise("dhcp.server: hosts[%d] must be a table with at least mac=", i)
		end
		local parts = {val("hosts[" .. i .. "].mac", h.mac)}
		if h.ip then
			parts[#parts + 1] = hostaddr(s.subnet, h.ip, "hosts[" .. i .. "].ip")
		end
		if h.name then
			parts[#parts + 1] = val("hosts[" .. i .. "].name", h.name)
		end
		lines[#lines + 1] = "dhcp-host=" .. table.concat(parts, ",")
	end
	local extra = {}
	for i, l in ipairs(opts.options or {}) do
		extra[i] = val("options[" .. i .. "]", l)
	end
	return table.concat(merge(lines, extra), "\n") .. "\n"
end

local Server = {}
Server.__index = Server

function Server:__tostring()
	return ("dhcp.server(dnsmasq on %s/%s, %s-%s, %s)"):format(self.ns.name, self.iface,
		self.range[1], self.range[2], self.proc:alive() and "running" or "stopped")
end

-- parse_leases reads dnsmasq's lease file: "EXPIRY MAC IP HOSTNAME CLIENT-ID" per line.
function dhcp.parse_leases(text)
	local out = {}
	for line in (text or ""):gmatch("[^\n]+") do
		local exp, mac, ip, host, id = line:match("^(%d+) (%S+) (%S+) (%S+) (%S+)")
		if exp then
			out[#out + 1] = {
				expires = tonumber(exp), mac = mac, ip = ip,
				hostname = host ~= "*" and host or nil,
				client_id = id ~= "*" and id or nil,
			}
		end
	end
	return out
end

function Server:leases()
	return dhcp.parse_leases(util.read(self.leasefile, self.ns))
end

function Server:refresh_names()
	if not self.dns then
		raise("dhcp.server: refresh_names: this server was started without dns_names")
	end
	self.ns:etc(self.hostsfile, dhcp.names.hosts(dhcp.names.collect(self.dns_names)))
	self.proc:kill("HUP")
end

function Server:stop()
	self.proc:kill()
end

local confs = {} -- namespace name -> number of servers started there

function dhcp.server(n, opts)
	opts = util.opts("dhcp.server", opts, {"iface", "range", "router", "dns", "domain", "lease_time",
		"hosts", "options", "conf", "ready_timeout", "tx_offload", "dns_names"})
	n = util.netns(n, "dhcp.server")
	local iface = util.need(opts, "iface", "string", "dhcp.server")
	if iface == "lo" then
		raise("dhcp.server: cannot serve DHCP on lo")
	end
	local mine = ipv4addr(n:link(iface))
	if not mine then
		raise("dhcp.server: %s in %s has no IPv4 address; give it one first (%s:addr(%q, \"10.0.0.1/24\")) so that dnsmasq knows which subnet to serve",
			iface, n.name, n.name, iface)
	end
	local link = n:link(iface)
	if opts.tx_offload ~= true and (link.kind == "veth" or link.kind == "bridge") then
		link:offload{tx = false}
	end
	local p = cidr.parse(mine)
	local s = setmetatable({ns = n, iface = iface, subnet = p.network .. "/" .. p.len, ip = p.ip}, Server)
	s.dns = opts.dns_names ~= nil and opts.dns_names ~= false
	s.dns_names = opts.dns_names

	local count = cidr.hosts(s.subnet)
	local range = opts.range or {math.floor(count / 2) + 1, -1}
	if type(range) ~= "table" or #range ~= 2 then
		raise("dhcp.server: option range must be {first, last}")
	end
	s.range = {hostaddr(s.subnet, range[1], "range[1]"), hostaddr(s.subnet, range[2], "range[2]")}
	s.lease_time = util.confval("dhcp.server", "lease_time", opts.lease_time or "1h")

	confs[n.name] = (confs[n.name] or 0) + 1
	s.conf = opts.conf or (confs[n.name] == 1 and "dnsmasq.conf" or ("dnsmasq-" .. iface .. ".conf"))
	s.leasefile = util.file("dnsmasq", n.name, iface .. ".leases")
	s.pidfile = util.file("dnsmasq", n.name, iface .. ".pid")
	if s.dns then
		-- under /etc/netns/NAME, read through the binding: dnsmasq reads it after
		-- dropping root, and the lab's directory is root's only
		s.hostsfile = "dnsmasq-" .. iface .. ".hosts"
		n:etc(s.hostsfile, dhcp.names.hosts(dhcp.names.collect(opts.dns_names)))
	end
	n:etc(s.conf, conflines(s, opts))

	-- --conf-file names the file explicitly: should the /etc binding be missing,
	-- dnsmasq fails loudly instead of silently running with its defaults.
	s.proc = n:spawn({"dnsmasq", "--keep-in-foreground", "--conf-file=/etc/" .. s.conf},
		{log = util.file("dnsmasq", n.name, iface .. ".log")})

	-- ready = UDP port 67 bound on this interface (ss shows 0.0.0.0%IFACE:67)
	local bound = "%" .. iface .. ":67"
	local ok = util.poll(opts.ready_timeout or 5, function()
		if not s.proc:alive() then
			return "dead"
		end
		local r = n:exec({"ss", "-Hlun", "sport = :67 or sport = :53"})
		local dns_ok = not s.dns or r.stdout:find(s.ip .. ":53", 1, true)
		return r.stdout:find(bound, 1, true) and dns_ok and "bound"
	end)
	if ok ~= "bound" then
		local why = ok == "dead" and "exited" or ("did not bind UDP port 67" .. (s.dns and " and 53" or "") .. " in time")
		s.proc:kill()
		raise("dhcp.server: dnsmasq on %s/%s %s; last lines of %s:\n%s", n.name, iface, why,
			s.proc.log, util.tail(s.proc:output()))
	end
	return s
end

---------------------------------------------------------------------------
-- clients
---------------------------------------------------------------------------

local Lease = {}
Lease.__index = Lease

function Lease:__tostring()
	return ("lease(%s on %s/%s by %s, router %s, dns %s)"):format(self.addr, self.ns.name, self.iface,
		self.client, self.router or "none", #self.dns > 0 and table.concat(self.dns, " ") or "none")
end

function Lease:stop()
	if self.proc then
		self.proc:kill()
	end
end

local function words(s)
	local out = {}
	for w in (s or ""):gmatch("[^%s,]+") do
		out[#out + 1] = w
	end
	return out
end

local function newlease(t)
	t.routers = words(t.routers)
	t.router = t.routers[1]
	t.dns = words(t.dns)
	if t.domain == "" then
		t.domain = nil
	end
	t.addr = t.ip .. "/" .. t.mask
	return setmetatable(t, Lease)
end

-- fail raises, or returns nil and the message when opts.check == false.
local function fail(opts, fmt, ...)
	local msg = fmt:format(...)
	if opts.check == false then
		return nil, msg
	end
	raise("%s", msg)
end

-- udhcpc_script writes the shipped event script into the lab's directory once
-- on each host (the controller, and each other host of n).
local script_paths = {}
local function udhcpc_script(n)
	local host = n.host or "local"
	if not script_paths[host] then
		script_paths[host] = util.write(util.file("udhcpc.script"), ns.libfile("udhcpc.script"), "755", n)
	end
	return script_paths[host]
end

function dhcp.udhcpc(n, iface, opts)
	opts = util.opts("dhcp.udhcpc", opts, {"tries", "interval", "hostname", "resolv", "check"})
	n = util.netns(n, "dhcp.udhcpc")
	if type(iface) ~= "string" then
		raise("dhcp.udhcpc: argument #2 (iface) must be a string, got %s", type(iface))
	end
	local tries, interval = opts.tries or 5, opts.interval or 1
	local argv = {"busybox", "udhcpc", "-f", "-q", "-n", "-i", iface,
		"-t", tostring(tries), "-T", tostring(interval), "-s", udhcpc_script(n),
		"-x", "hostname:" .. (opts.hostname or n.name)}
	local r = n:exec(argv, {env = {NSLUA_RESOLV = opts.resolv and "1" or "0"}, timeout = tries * interval + 10})
	local got = {}
	for k, v in r.stdout:gmatch("nslua%-lease (%w+)=([^\n]*)") do
		got[k] = v
	end
	if r.code ~= 0 or not got.ip or got.ip == "" then
		local why = util.tail(r.stderr, 1)
		return fail(opts, "dhcp.udhcpc: no lease for %s in %s after %d tries (%s)", iface, n.name, tries,
			why ~= "" and why or ("exit code " .. r.code))
	end
	return newlease({
		ip = got.ip, mask = tonumber(got.mask) or 32, routers = got.router, dns = got.dns,
		domain = got.domain, lease_time = tonumber(got.lease), server = got.serverid,
		iface = iface, ns = n, client = "udhcpc",
	})
end

-- The enter hook is sourced by Debian's dhclient-script before it acts.
local DHCLIENT_HOOK = [[
# Written by nslua.dhcp: sourced by Debian's dhclient-script inside one
# network namespace, where /etc/dhcp is this directory.

# The stock make_resolv_conf writes /etc/resolv.conf.dhclient-new.PID, i.e.
# into the host's /etc. Write the namespace's own resolv.conf in place, and
# only when asked to (NSLUA_RESOLV=1) and when it is a mount of its own.
make_resolv_conf() {
	[ "$NSLUA_RESOLV" = 1 ] || return 0
	grep -q ' /etc/resolv.conf ' /proc/self/mountinfo || return 0
	[ -n "$new_domain_name_servers" ] || return 0
	{
		[ -z "$new_domain_search$new_domain_name" ] || echo "search ${new_domain_search:-$new_domain_name}"
		for s in $new_domain_name_servers; do
			echo "nameserver $s"
		done
	} >/etc/resolv.conf
}

# A network namespace shares the host's UTS namespace: never rename the host.
set_hostname() {
	:
}
]]

local function dhclient_conf(opts, hostname, timeout)
	return table.concat({
		"# written by nslua.dhcp",
		("send host-name %s;"):format(util.quote(hostname)),
		"request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, domain-search;",
		("timeout %d;"):format(timeout),
		"initial-interval 1;",
	}, "\n") .. "\n"
end

-- parse_dhclient_lease reads the last `lease { ... }` block of a dhclient lease file.
function dhcp.parse_dhclient_lease(text)
	local block
	for b in (text or ""):gmatch("lease {(.-)\n}") do
		block = b
	end
	if not block then
		return nil
	end
	local function opt(name)
		return block:match("\n%s*option " .. name .. " ([^;]*);")
	end
	local function unq(s)
		return s and s:gsub('^"(.*)"$', "%1")
	end
	return {
		ip = block:match("fixed%-address ([%d%.]+);"),
		netmask = opt("subnet%-mask"),
		routers = opt("routers"),
		dns = opt("domain%-name%-servers"),
		domain = unq(opt("domain%-name")),
		lease_time = tonumber(opt("dhcp%-lease%-time")),
		server = opt("dhcp%-server%-identifier"),
	}
end

function dhcp.dhclient(n, iface, opts)
	opts = util.opts("dhcp.dhclient", opts, {"timeout", "hostname", "resolv", "check"})
	n = util.netns(n, "dhcp.dhclient")
	if type(iface) ~= "string" then
		raise("dhcp.dhclient: argument #2 (iface) must be a string, got %s", type(iface))
	end
	local timeout = opts.timeout or 10
	local base = util.file("dhclient", n.name, iface)
	util.write(base .. ".conf", dhclient_conf(opts, opts.hostname or n.name, timeout), nil, n)
	os.remove(base .. ".leases") -- a fresh lease, not a REBOOT of an old one
	if n:etc("dhcp/dhclient-enter-hooks") ~= DHCLIENT_HOOK then
		n:etc("dhcp/dhclient-enter-hooks", DHCLIENT_HOOK)
	end

	local proc = n:spawn({"dhclient", "-d", "-1", "-4", "-v",
		"-cf", base .. ".conf", "-pf", base .. ".pid", "-lf", base .. ".leases",
		"-e", "NSLUA_RESOLV=" .. (opts.resolv and "1" or "0"), iface},
		{log = base .. ".log"})
	-- -d keeps it in the foreground: ready when it says "bound to", failed when it exits
	-- (after `timeout`, "No DHCPOFFERS received").
	local state = util.poll(timeout + 5, function()
		local out = proc:output()
		if out:find("bound to %d") then
			return "bound"
		end
		if not proc:alive() then
			return "exited"
		end
	end)
	if state ~= "bound" then
		proc:kill()
		return fail(opts, "dhcp.dhclient: no lease for %s in %s within %d s (%s); last lines of %s:\n%s",
			iface, n.name, timeout, state or "timed out", proc.log, util.tail(proc:output(), 4))
	end
	local l = dhcp.parse_dhclient_lease(util.read(base .. ".leases", n))
	if not l or not l.ip then
		proc:kill()
		return fail(opts, "dhcp.dhclient: %s in %s says bound but %s.leases holds no lease", iface, n.name, base)
	end
	l.mask = l.netmask and cidr.masklen(l.netmask) or 32
	l.netmask = nil
	l.iface, l.ns, l.client, l.proc = iface, n, "dhclient", proc
	return newlease(l)
end

return dhcp
