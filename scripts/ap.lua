-- nslua.ap: IEEE 802.1X port authentication with hostapd (authenticator, with
-- its internal EAP server) and wpa_supplicant (supplicant) in namespaces; an
-- access-controlled bridge port; and the same over real Wi-Fi hardware.
--
--   local ap = require("nslua.ap")
--   local port = ap.locked_port(sw, {port = "p1", users = {alice = "secret"}})
--   local sup = ap.supplicant(client, {iface = "eth0", identity = "alice", password = "secret"})
--   assert(sup:wait(10))          -- authenticated: the port now forwards alice's MAC
--
-- Every hostapd/wpa_supplicant gets its own control directory in the lab's
-- directory (control sockets are not per network namespace), and its files
-- (configuration, EAP user file, logs, certificates) live there too.
-- Tested here with driver=wired: EAP-MD5, PEAP/MSCHAPv2, TTLS/MSCHAPv2 and
-- EAP-TLS; a good login takes ~2 s (the supplicant waits 2 s before EAPOL-Start).
--
-- ap.certs() -> { dir=, ca=, ca_key=, server_cert=, server_key= }
--   A lab CA and a server certificate (EC P-256, openssl), made once per lab in LABDIR/pki.
-- ap.client_cert(identity) -> { cert=, key=, ca= }
--   A client certificate (CN = identity) signed by the lab CA, for EAP-TLS.
--
-- ap.authenticator(n, opts) -> auth
--   hostapd driver=wired, ieee8021x=1, eap_server=1 on one interface of n.
--   opts.iface    interface to guard (required). When it is a bridge, bit 3 of the bridge's
--                 group_fwd_mask is set so that EAPOL frames cross it.
--   opts.users    { identity = "password", identity2 = {password=, methods={...}}, ... }
--                 or a list { {identity=, password=, methods=}, ... } (required)
--   opts.methods  phase-1 EAP methods offered, first preferred
--                 (default {"PEAP", "TTLS", "TLS", "MD5"})
--   opts.phase2   inner methods for PEAP/TTLS (default {"MSCHAPV2", "TTLS-MSCHAPV2", "MD5", "GTC"})
--   opts.debug    true: run hostapd -d (verbose log)
--   opts.ready_timeout  seconds to wait for AP-ENABLED (default 10)
--   opts.config   extra hostapd.conf lines (list of strings)
--   Certificates (ap.certs) are used when a method needs TLS (PEAP, TTLS, TLS).
--   returns auth = { ns=, iface=, ctrl= (control directory), conf=, proc= }
--   auth:cli(cmd, ...) -> stdout of `hostapd_cli -p CTRL -i IFACE cmd ...` (raises on failure)
--   auth:stations() -> { {mac=, authorized=bool, user=, method=}, ... }
--   auth:authorized(mac) -> bool
--   auth:stop()
--
-- ap.supplicant(n, opts) -> sup
--   wpa_supplicant -D wired with ap_scan=0, key_mgmt=IEEE8021X, eapol_flags=0.
--   opts.iface     interface (required)
--   opts.method    "PEAP" (default), "TTLS", "TLS", "MD5", ... (any wpa_supplicant eap=)
--   opts.identity  EAP identity (required)
--   opts.password  password (required but for TLS)
--   opts.phase2    inner method for PEAP/TTLS (default "MSCHAPV2")
--   opts.ca_cert   CA to check the server with (default the lab CA; false: no check)
--   opts.client_cert, opts.private_key   for TLS (default ap.client_cert(identity))
--   opts.network   extra network={} settings, { key = "raw value" }
--   opts.debug     true: wpa_supplicant -d
--   returns sup = { ns=, iface=, ctrl=, conf=, proc= }
--   sup:cli(cmd, ...) -> stdout of `wpa_cli -p CTRL -i IFACE cmd ...` (raises on failure)
--   sup:status() -> table of `wpa_cli status` (e.g. ["EAP state"]="SUCCESS")
--   sup:wait([timeout]) -> true | false, why   waits (default 10 s) for EAP SUCCESS or FAILURE
--   sup:authorized() -> bool
--   sup:logoff(), sup:logon()   send EAPOL-Logoff / start again
--   sup:stop()
--
-- ap.locked_port(n, opts) -> port
--   An access-controlled bridge port: opts.port, a port of a bridge in n (required; e.g. the
--   bridge side of a client's veth), is set `locked on learning off`, so the bridge drops
--   everything the client sends but EAPOL; an authenticator (all ap.authenticator options)
--   runs on the port; `hostapd_cli -a` runs an action script that adds the client's MAC
--   (`bridge fdb replace MAC dev PORT master static`) on AP-STA-CONNECTED and removes it on
--   AP-STA-DISCONNECTED. DHCP and everything else fail before login and after a failed
--   one, and work after a good one. MACs the bridge learned on the port before the lock
--   are flushed (they would let the client through).
--   The bridge must NOT forward EAPOL (group_fwd_mask bit 3): frames it forwards from a
--   locked port are dropped before hostapd can see them (raises if it is set).
--   returns port = { ns=, port=Link, bridge= (name), auth=, monitor=Proc }
--   port:allowed() -> { mac, ... } the MACs the port currently lets in
--   port:wait(mac [, timeout]) -> bool  waits (default 5 s) until the port lets mac in: the
--                  action script runs a moment after the supplicant sees EAP-Success
--   port:stations(), port:stop()
--
-- ap.wifi(n, opts) -> ap
--   A Wi-Fi access point: the same as wifi.ap of nslua.wifi (see scripts/wifi.lua).
-- ap.wifi_station(n, opts) -> sta
--   A Wi-Fi station: the same as wifi.station of nslua.wifi.

local ns = require("nslua")
local util = require("nslua.util")
util.register(debug.getinfo(1, "S").source)
local raise = util.raise
local q = util.quote

local ap = {}

local TLS_METHODS = {PEAP = true, TTLS = true, TLS = true, FAST = true}

local function host()
	return ns.host()
end

local function mkdir(path)
	host():exec({"mkdir", "-p", path}, {check = true})
	return path
end

---------------------------------------------------------------------------
-- certificates
---------------------------------------------------------------------------

-- one openssl call per certificate: `req -x509 -CA` signs with the lab CA
local function newcert(dir, name, subject, ca, ext)
	local argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-nodes", "-days", "30", "-subj", subject,
		"-keyout", dir .. "/" .. name .. ".key", "-out", dir .. "/" .. name .. ".pem"}
	if ca then
		for _, a in ipairs({"-CA", dir .. "/ca.pem", "-CAkey", dir .. "/ca.key",
			"-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=" .. ext}) do
			argv[#argv + 1] = a
		end
	end
	local r = host():exec(argv)
	if r.code ~= 0 then
		raise("ap: openssl could not make %s/%s.pem: %s", dir, name, util.tail(r.stderr, 3))
	end
end

local pki
function ap.certs()
	if pki then
		return pki
	end
	local dir = mkdir(util.dir() .. "/pki")
	newcert(dir, "ca", "/CN=nslua lab CA")
	newcert(dir, "server", "/CN=nslua-server", true, "serverAuth")
	pki = {dir = dir, ca = dir .. "/ca.pem", ca_key = dir .. "/ca.key",
		server_cert = dir .. "/server.pem", server_key = dir .. "/server.key"}
	return pki
end

local clients = {}
function ap.client_cert(identity)
	if type(identity) ~= "string" or identity == "" then
		raise("ap.client_cert: identity must be a non-empty string")
	end
	if not clients[identity] then
		local c = ap.certs()
		local name = "client-" .. identity:gsub("[^%w%._%-]", "_")
		newcert(c.dir, name, "/CN=" .. identity:gsub("/", "_"), true, "clientAuth")
		clients[identity] = {cert = c.dir .. "/" .. name .. ".pem", key = c.dir .. "/" .. name .. ".key", ca = c.ca}
	end
	return clients[identity]
end

---------------------------------------------------------------------------
-- authenticator (hostapd)
---------------------------------------------------------------------------

local function upper(list)
	local out = {}
	for i, m in ipairs(util.list(list)) do
		out[i] = tostring(m):upper()
	end
	return out
end

-- users normalizes opts.users into a sorted list of {identity=, password=, methods=}.
local function users(opts, fn)
	local u = opts.users
	if type(u) ~= "table" then
		raise("%s: option users is required: { alice = \"secret\", ... }", fn)
	end
	local out = {}
	if #u > 0 then
		for i, e in ipairs(u) do
			if type(e) ~= "table" or type(e.identity) ~= "string" then
				raise("%s: users[%d] must be a table with identity=", fn, i)
			end
			out[#out + 1] = {identity = e.identity, password = e.password, methods = e.methods}
		end
	else
		for id, e in pairs(u) do
			if type(e) == "string" then
				e = {password = e}
			elseif type(e) ~= "table" then
				raise("%s: users[%q] must be a password or a table {password=, methods=}", fn, tostring(id))
			end
			out[#out + 1] = {identity = id, password = e.password, methods = e.methods}
		end
		table.sort(out, function(a, b) return a.identity < b.identity end)
	end
	if #out == 0 then
		raise("%s: option users is empty", fn)
	end
	return out
end

-- eap_user_file: phase-1 lines (carrying the password, which MD5 uses) then
-- phase-2 lines ([2]) for the methods inside PEAP/TTLS. hostapd takes the
-- first matching line of each phase.
local function eap_user_file(list, opts)
	local methods = upper(opts.methods or {"PEAP", "TTLS", "TLS", "MD5"})
	local phase2 = upper(opts.phase2 or {"MSCHAPV2", "TTLS-MSCHAPV2", "MD5", "GTC"})
	local p1, p2, tls = {"# phase 1"}, {"# phase 2"}, false
	for _, u in ipairs(list) do
		local m = u.methods and upper(u.methods) or methods
		local line = q(u.identity) .. " " .. table.concat(m, ",")
		if u.password then
			line = line .. " " .. q(u.password)
		end
		p1[#p1 + 1] = line
		local tunnel = false
		for _, x in ipairs(m) do
			tls = tls or TLS_METHODS[x] or false
			tunnel = tunnel or x == "PEAP" or x == "TTLS" or x == "FAST"
		end
		if tunnel and u.password then
			p2[#p2 + 1] = ("%s %s %s [2]"):format(q(u.identity), table.concat(phase2, ","), q(u.password))
		end
	end
	return table.concat(p1, "\n") .. "\n" .. table.concat(p2, "\n") .. "\n", tls
end

local Auth = {}
Auth.__index = Auth

function Auth:__tostring()
	return ("ap.authenticator(hostapd on %s/%s, %s)"):format(self.ns.name, self.iface,
		self.proc:alive() and "running" or "stopped")
end

function Auth:cli(...)
	local argv = {"hostapd_cli", "-p", self.ctrl, "-s", self.ctrl, "-i", self.iface}
	for _, a in ipairs({...}) do
		argv[#argv + 1] = tostring(a)
	end
	local r = self.ns:exec(argv, {timeout = 10})
	if r.code ~= 0 then
		raise("hostapd_cli %s on %s/%s failed (code %d): %s", table.concat({...}, " "), self.ns.name,
			self.iface, r.code, util.tail(r.stdout .. r.stderr, 3))
	end
	return r.stdout
end

-- parse_sta reads `all_sta`: a MAC line, then key=value lines, per station.
local function parse_sta(text)
	local out, cur = {}, nil
	for line in text:gmatch("[^\n]+") do
		if line:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
			cur = {mac = line, authorized = false}
			out[#out + 1] = cur
		elseif cur then
			local k, v = line:match("^([^=]+)=(.*)$")
			if k == "flags" then
				cur.authorized = v:find("[AUTHORIZED]", 1, true) ~= nil
			elseif k == "dot1xAuthSessionUserName" then
				cur.user = v
			elseif k == "last_eap_type_sta" then
				cur.method = v:match("%((.-)%)") or v
			end
		end
	end
	return out
end

function Auth:stations()
	return parse_sta(self:cli("all_sta"))
end

function Auth:authorized(mac)
	mac = mac:lower()
	for _, s in ipairs(self:stations()) do
		if s.mac:lower() == mac then
			return s.authorized
		end
	end
	return false
end

function Auth:stop()
	self.proc:kill()
end

-- bridge_mask returns a bridge's group_fwd_mask (from `ip -d link show`).
local function bridge_mask(n, bridge)
	local r = n:exec({"ip", "-d", "link", "show", "dev", bridge}, {check = true})
	return tonumber(r.stdout:match("group_fwd_mask (%S+)") or "0") or 0
end

local function has_eapol_bit(mask)
	return math.floor(mask / 8) % 2 == 1
end

-- start_hostapd writes the EAP user file and hostapd.conf, and runs hostapd.
-- lines: the driver-specific part of the configuration.
local function start_hostapd(n, iface, opts, lines, fn)
	local auth = setmetatable({ns = n, iface = iface}, Auth)
	auth.ctrl = mkdir(util.file("hostapd", n.name))
	local conf = {
		"# written by nslua.ap for " .. n.name .. "/" .. iface,
		"interface=" .. iface,
		"ctrl_interface=" .. auth.ctrl,
		"logger_stdout=-1",
		"logger_stdout_level=" .. (opts.debug and "0" or "2"),
	}
	for _, l in ipairs(lines) do
		conf[#conf + 1] = l
	end
	if opts.users then
		local text, tls = eap_user_file(users(opts, fn), opts)
		local userfile = util.write(util.file("hostapd", n.name, iface .. ".eap_user"), text)
		for _, l in ipairs({"ieee8021x=1", "eapol_version=2", "eap_server=1", "eap_user_file=" .. userfile}) do
			conf[#conf + 1] = l
		end
		if tls then
			local c = ap.certs()
			conf[#conf + 1] = "ca_cert=" .. c.ca
			conf[#conf + 1] = "server_cert=" .. c.server_cert
			conf[#conf + 1] = "private_key=" .. c.server_key
		end
		if text:find("PWD", 1, true) then
			conf[#conf + 1] = "pwd_group=19"
		end
	end
	for _, l in ipairs(opts.config or {}) do
		conf[#conf + 1] = l
	end
	auth.conf = util.write(util.file("hostapd", n.name, iface .. ".conf"), table.concat(conf, "\n") .. "\n")
	local argv = {"hostapd", auth.conf}
	if opts.debug then
		argv = {"hostapd", "-d", auth.conf}
	end
	auth.proc = n:spawn(argv, {log = util.file("hostapd", n.name, iface .. ".log"),
		ready = "AP%-ENABLED", ready_timeout = opts.ready_timeout or 10})
	return auth
end

function ap.authenticator(n, opts)
	n = util.netns(n, "ap.authenticator")
	opts = util.options(opts, "ap.authenticator")
	local iface = util.need(opts, "iface", "string", "ap.authenticator")
	util.need(opts, "users", "table", "ap.authenticator")
	local link = n:link(iface)
	if link.kind == "bridge" then
		-- a bridge keeps 01:80:c2:00:00:03 to itself unless told to forward it
		local mask = bridge_mask(n, iface)
		if not has_eapol_bit(mask) then
			link:group_fwd_mask(mask + 8)
		end
	end
	return start_hostapd(n, iface, opts, {
		"driver=wired",
		"use_pae_group_addr=1", -- EAPOL to the PAE group address, as switches do
	}, "ap.authenticator")
end

---------------------------------------------------------------------------
-- supplicant (wpa_supplicant)
---------------------------------------------------------------------------

local Sup = {}
Sup.__index = Sup

function Sup:__tostring()
	return ("ap.supplicant(wpa_supplicant on %s/%s, %s)"):format(self.ns.name, self.iface,
		self.proc:alive() and "running" or "stopped")
end

function Sup:cli(...)
	local argv = {"wpa_cli", "-p", self.ctrl, "-s", self.ctrl, "-i", self.iface}
	for _, a in ipairs({...}) do
		argv[#argv + 1] = tostring(a)
	end
	local r = self.ns:exec(argv, {timeout = 10})
	if r.code ~= 0 then
		raise("wpa_cli %s on %s/%s failed (code %d): %s", table.concat({...}, " "), self.ns.name,
			self.iface, r.code, util.tail(r.stdout .. r.stderr, 3))
	end
	return r.stdout
end

function Sup:status()
	local st = {}
	for k, v in self:cli("status"):gmatch("([^\n=]+)=([^\n]*)") do
		st[k] = v
	end
	return st
end

function Sup:authorized()
	local st = self:status()
	if self.wifi then
		return st.wpa_state == "COMPLETED"
	end
	return st["EAP state"] == "SUCCESS" and st.suppPortStatus == "Authorized"
end

function Sup:wait(timeout)
	timeout = timeout or 10
	local last = {}
	local result = util.poll(timeout, function()
		if not self.proc:alive() then
			return "exited"
		end
		last = self:status()
		local eap = last["EAP state"]
		if eap == "FAILURE" then
			return "failure"
		end
		if eap == "SUCCESS" or (self.wifi and not self.eap and last.wpa_state == "COMPLETED") then
			return "success"
		end
	end)
	if result == "success" then
		return true
	end
	if result == "failure" then
		return false, ("EAP authentication of %q failed on %s/%s (wrong credentials?)"):format(
			self.identity or "", self.ns.name, self.iface)
	end
	if result == "exited" then
		return false, ("wpa_supplicant on %s/%s exited; last lines of %s:\n%s"):format(
			self.ns.name, self.iface, self.proc.log, util.tail(self.proc:output()))
	end
	return false, ("no result after %g s on %s/%s (wpa_state=%s, EAP state=%s, PAE state=%s)"):format(
		timeout, self.ns.name, self.iface, tostring(last.wpa_state), tostring(last["EAP state"]),
		tostring(last["Supplicant PAE state"]))
end

function Sup:logoff()
	self:cli("logoff")
end

function Sup:logon()
	self:cli("logon")
end

function Sup:stop()
	self.proc:kill()
end

-- eap_network returns the EAP lines of a network={} block.
local function eap_network(opts, fn)
	local method = tostring(opts.method or "PEAP"):upper()
	local identity = util.need(opts, "identity", "string", fn)
	local lines = {"eap=" .. method, "identity=" .. q(identity)}
	if method ~= "TLS" then
		lines[#lines + 1] = "password=" .. q(util.need(opts, "password", "string", fn))
	end
	if method == "PEAP" or method == "TTLS" then
		lines[#lines + 1] = "phase2=" .. q("auth=" .. tostring(opts.phase2 or "MSCHAPV2"):upper())
	end
	if TLS_METHODS[method] and opts.ca_cert ~= false then
		lines[#lines + 1] = "ca_cert=" .. q(opts.ca_cert or ap.certs().ca)
	end
	if method == "TLS" then
		local c = (opts.client_cert and opts.private_key) and {} or ap.client_cert(identity)
		lines[#lines + 1] = "client_cert=" .. q(opts.client_cert or c.cert)
		lines[#lines + 1] = "private_key=" .. q(opts.private_key or c.key)
	end
	return lines, identity
end

local function start_supplicant(n, iface, opts, global, network, driver)
	local sup = setmetatable({ns = n, iface = iface}, Sup)
	sup.ctrl = mkdir(util.file("wpa", n.name))
	local text = {"# written by nslua.ap for " .. n.name .. "/" .. iface, "ctrl_interface=" .. sup.ctrl}
	for _, l in ipairs(global) do
		text[#text + 1] = l
	end
	text[#text + 1] = "network={"
	for _, l in ipairs(network) do
		text[#text + 1] = "\t" .. l
	end
	local extra = {}
	for k in pairs(opts.network or {}) do
		extra[#extra + 1] = k
	end
	table.sort(extra)
	for _, k in ipairs(extra) do
		text[#text + 1] = "\t" .. k .. "=" .. tostring(opts.network[k])
	end
	text[#text + 1] = "}"
	sup.conf = util.write(util.file("wpa", n.name, iface .. ".conf"), table.concat(text, "\n") .. "\n")
	local argv = {"wpa_supplicant", "-D", driver, "-i", iface, "-c", sup.conf}
	if opts.debug then
		argv[#argv + 1] = "-d"
	end
	local wait = opts.ready_timeout or 10
	sup.proc = n:spawn(argv, {log = util.file("wpa", n.name, iface .. ".log"),
		ready = "Successfully initialized", ready_timeout = wait})
	-- that line comes before the interface is set up: wait for its control socket
	local sock = sup.ctrl .. "/" .. iface
	local ok = util.poll(wait, function()
		return not sup.proc:alive() or host():exec({"test", "-S", sock}).code == 0
	end)
	if not ok or not sup.proc:alive() then
		sup.proc:kill()
		raise("wpa_supplicant on %s/%s did not open its control socket %s; last lines of %s:\n%s",
			n.name, iface, sock, sup.proc.log, util.tail(sup.proc:output()))
	end
	return sup
end

function ap.supplicant(n, opts)
	n = util.netns(n, "ap.supplicant")
	opts = util.options(opts, "ap.supplicant")
	local iface = util.need(opts, "iface", "string", "ap.supplicant")
	local network, identity = eap_network(opts, "ap.supplicant")
	table.insert(network, 1, "key_mgmt=IEEE8021X")
	table.insert(network, 2, "eapol_flags=0") -- no WEP keys on a wire
	local sup = start_supplicant(n, iface, opts, {"ap_scan=0"}, network, "wired")
	sup.identity = identity
	return sup
end

---------------------------------------------------------------------------
-- locked bridge port
---------------------------------------------------------------------------

-- hostapd_cli -a runs it as SCRIPT IFACE EVENT ARGS... (checked with hostapd 2.10)
local ACTION = [[
#!/bin/sh
# hostapd_cli -a action script written by nslua.ap.locked_port.
# Called as: SCRIPT IFACE EVENT [MAC]. Lets a station's MAC through the locked
# bridge port IFACE once it has authenticated, and stops it when it leaves.
case "$2" in
AP-STA-CONNECTED)
	bridge fdb replace "$3" dev "$1" master static && echo "nslua: $3 allowed on $1"
	;;
AP-STA-DISCONNECTED)
	bridge fdb del "$3" dev "$1" master static && echo "nslua: $3 removed from $1"
	;;
esac
exit 0
]]

local LockedPort = {}
LockedPort.__index = LockedPort

function LockedPort:__tostring()
	return ("ap.locked_port(%s/%s on %s, %d allowed)"):format(self.ns.name, self.port.name, self.bridge,
		#self:allowed())
end

function LockedPort:allowed()
	local r = self.ns:exec({"bridge", "fdb", "show", "dev", self.port.name}, {check = true})
	local out = {}
	for line in r.stdout:gmatch("[^\n]+") do
		local mac = line:match("^(%x%x:%x%x:%x%x:%x%x:%x%x:%x%x) ")
		if mac and line:find(" static", 1, true) and not line:find("permanent", 1, true) then
			out[#out + 1] = mac
		end
	end
	return out
end

function LockedPort:wait(mac, timeout)
	mac = mac:lower()
	return util.poll(timeout or 5, function()
		for _, m in ipairs(self:allowed()) do
			if m:lower() == mac then
				return true
			end
		end
	end) or false
end

function LockedPort:stations()
	return self.auth:stations()
end

function LockedPort:stop()
	self.monitor:kill()
	self.auth:stop()
end

local action_path
function ap.locked_port(n, opts)
	n = util.netns(n, "ap.locked_port")
	opts = util.options(opts, "ap.locked_port")
	local pname = util.need(opts, "port", "string", "ap.locked_port")
	local port = n:link(pname)
	local master = port:info().master
	if not master then
		raise("ap.locked_port: %s in %s is not a bridge port; enslave it first (link:master(bridge))", pname, n.name)
	end
	if has_eapol_bit(bridge_mask(n, master)) then
		raise("ap.locked_port: bridge %s in %s forwards EAPOL (group_fwd_mask bit 3): frames it forwards from the locked port %s are dropped before hostapd sees them; clear the bit (bridge:group_fwd_mask(0))",
			master, n.name, pname)
	end
	port:port({locked = true, learning = false})
	-- A MAC the bridge learned before the lock (the client's first IPv6 packets)
	-- would let the client through: forget them. Static entries stay.
	n:exec({"bridge", "fdb", "flush", "dev", master, "brport", pname, "dynamic"}, {check = true})

	local aopts = {}
	for k, v in pairs(opts) do
		aopts[k] = v
	end
	aopts.port, aopts.iface = nil, pname
	local auth = ap.authenticator(n, aopts)

	if not action_path then
		action_path = util.write(util.file("locked-port.action"), ACTION, "755")
	end
	local mondir = mkdir(auth.ctrl .. "/mon-" .. pname)
	local mon = n:spawn({"hostapd_cli", "-p", auth.ctrl, "-s", mondir, "-i", pname, "-a", action_path},
		{log = util.file("hostapd_cli", n.name, pname .. ".log")})
	-- attached once its client socket exists (it sends ATTACH right after)
	local ok = util.poll(5, function()
		if not mon:alive() then
			return "dead"
		end
		local r = host():exec({"ls", mondir})
		return r.stdout:find("wpa_ctrl_", 1, true) and "up"
	end)
	if ok ~= "up" then
		mon:kill()
		raise("ap.locked_port: hostapd_cli -a on %s/%s did not attach; last lines of %s:\n%s",
			n.name, pname, mon.log, util.tail(mon:output()))
	end
	return setmetatable({ns = n, port = port, bridge = master, auth = auth, monitor = mon}, LockedPort)
end

---------------------------------------------------------------------------
-- Wi-Fi: nslua.wifi (required when used: it builds on this library)
---------------------------------------------------------------------------

function ap.wifi(n, opts)
	return require("nslua.wifi").ap(n, opts)
end

function ap.wifi_station(n, opts)
	return require("nslua.wifi").station(n, opts)
end

-- for nslua.wifi, not part of the contract
ap._impl = {start_hostapd = start_hostapd, start_supplicant = start_supplicant, eap_network = eap_network}

return ap
