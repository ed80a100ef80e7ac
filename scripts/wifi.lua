-- nslua.wifi: Wi-Fi labs on real radios or mac80211_hwsim's virtual ones: a
-- radio (an nl80211 phy) moved into a namespace, hostapd as an access point
-- (open, WPA2-PSK, or WPA2-Enterprise with hostapd's internal EAP server) and
-- wpa_supplicant as a station.
--
--   local wifi = require("nslua.wifi")
--   local ap = wifi.ap(apns, {ssid = "lab", passphrase = "correct horse"})
--   local sta = wifi.station(stans, {ssid = "lab", passphrase = "correct horse"})
--   assert(sta:wait(60))          -- CTRL-EVENT-CONNECTED
--
-- wifi.radios([count]) -> { {phy=, iface=}, ... }
--   The radios in the host namespace (nl80211, `iw`), in phy order. With count,
--   makes sure there are that many: when there are none and the kernel has
--   mac80211_hwsim, `modprobe mac80211_hwsim radios=COUNT` (unloaded again at
--   teardown). Raises, naming what is missing, when there are fewer: no `iw`,
--   no cfg80211/mac80211 in the kernel, no mac80211_hwsim module.
-- wifi.take(n [, opts]) -> radio = { phy=, iface=, ns= }
--   Moves a radio (opts.phy, default the first in the host namespace; at least
--   one is made as wifi.radios(1) does) with its interface into n
--   (`iw phy PHY set netns name N`). At teardown it is given back to the
--   namespace the lab runs in, before the lab's processes are stopped; if the
--   lab dies before that, the kernel returns it to the initial namespace when n
--   is destroyed (cfg80211 never deletes a phy with its namespace).
-- wifi.ap(n, opts) -> ap   (hostapd driver=nl80211 on a radio taken into n)
--   opts.radio     a radio from wifi.take(n) (default: wifi.take(n, {phy = opts.phy}))
--   opts.ssid      network name (required); opts.channel (default 1); opts.hw_mode ("g")
--   opts.passphrase  WPA2-PSK (8-63 characters), or
--   opts.users     WPA2-Enterprise: the EAP users, methods and phase2 of
--                  ap.authenticator (nslua.ap); hostapd's internal EAP server and
--                  the lab's certificates (ap.certs) are used
--   neither: an open network. opts.config, opts.debug, opts.ready_timeout (default 60 s:
--   AP-ENABLED) as for ap.authenticator.
--   returns an ap.authenticator object (cli, stations, authorized, stop) with .radio
-- wifi.station(n, opts) -> sta   (wpa_supplicant -D nl80211 on a radio taken into n)
--   opts.radio, opts.phy as for wifi.ap; opts.ssid (required); opts.passphrase, or the
--   EAP options of ap.supplicant (method (default "PEAP"), identity, password, phase2,
--   ca_cert, ...); neither: an open network.
--   returns an ap.supplicant object (cli, status, authorized, stop) with .radio, and
--   sta:wait([timeout]) -> true | false, why   waits (default 60 s) for wpa_supplicant's
--     own events: CTRL-EVENT-CONNECTED (then wpa_state=COMPLETED) is success; a rejected passphrase
--     (CTRL-EVENT-SSID-TEMP-DISABLED reason=WRONG_KEY) or CTRL-EVENT-EAP-FAILURE is failure.
-- wifi.wait(sta [, timeout]) -> true | false, why
--   sta:wait as a function: waits for the station's wpa_supplicant events.
--
-- ap.wifi and ap.wifi_station (nslua.ap) are wifi.ap and wifi.station.
-- Needs hostapd, wpasupplicant and iw, and a kernel with cfg80211, mac80211 and
-- the ccm/gcm crypto that WPA2 uses (Debian's kernels have them all).

local ns = require("nslua")
local util = require("nslua.util")
local ap = require("nslua.ap")
util.register(debug.getinfo(1, "S").source)
local raise = util.raise
local q = util.quote
local impl = ap._impl

local wifi = {}

local function host()
	return ns.host()
end

-- iw runs iw in n; raises when it is not installed.
local function iw(n, argv, fn)
	local cmd = {"iw"}
	for _, a in ipairs(argv) do
		cmd[#cmd + 1] = tostring(a)
	end
	local r = n:exec(cmd)
	if r.code == 127 then
		raise("%s: iw is not installed (apt-get install iw)", fn)
	end
	return r
end

-- list returns the radios nl80211 shows in n: { {phy=, iface=} } by phy index.
local function list(n, fn)
	local r = iw(n, {"dev"}, fn)
	if r.code ~= 0 then
		if r.stderr:find("nl80211 not found", 1, true) then
			return nil, "the kernel has no cfg80211 (nl80211 not found)"
		end
		raise("%s: iw dev failed: %s", fn, util.tail(r.stderr, 3))
	end
	local out, cur = {}, nil
	for line in r.stdout:gmatch("[^\n]+") do
		local idx = line:match("^phy#(%d+)")
		if idx then
			cur = {phy = "phy" .. idx, index = tonumber(idx)}
			out[#out + 1] = cur
		elseif cur and not cur.iface then
			cur.iface = line:match("^%s+Interface%s+(%S+)")
		end
	end
	table.sort(out, function(a, b) return a.index < b.index end)
	return out
end

local loaded_hwsim = false

-- load_hwsim loads mac80211_hwsim with count radios; raises naming what is missing.
local function load_hwsim(count, why, fn)
	local r = host():exec({"modprobe", "mac80211_hwsim", "radios=" .. count})
	if r.code == 127 then
		raise("%s: no wireless radio: %s, and no modprobe to load mac80211_hwsim (apt-get install kmod)", fn, why)
	elseif r.code ~= 0 then
		raise("%s: no wireless radio: %s, and no mac80211_hwsim module for virtual radios (%s)",
			fn, why, util.tail(r.stderr, 1))
	end
	loaded_hwsim = true
	ns.defer(function()
		-- after every radio was given back (defers run newest first)
		host():exec({"modprobe", "-r", "mac80211_hwsim"})
	end)
end

function wifi.radios(count)
	local fn = "wifi.radios"
	local have, why = list(host(), fn)
	if count == nil or (have and #have >= count) then
		if not have then
			raise("%s: no wireless radios: %s", fn, why)
		end
		return have
	end
	if type(count) ~= "number" or count < 1 then
		raise("%s: count must be a positive number, got %s", fn, tostring(count))
	end
	if have and #have > 0 then
		raise("%s: %d radio(s) in the host namespace, %d wanted (a loaded mac80211_hwsim: modprobe -r it, or load it with radios=%d)",
			fn, #have, count, count)
	end
	if loaded_hwsim then
		raise("%s: the radios this lab made (mac80211_hwsim) are all taken", fn)
	end
	if util.read("/sys/module/mac80211_hwsim/refcnt") then
		-- someone else's: neither reload nor unload it
		raise("%s: no radio left in the host namespace: mac80211_hwsim is loaded, and its radios are all in other namespaces", fn)
	end
	load_hwsim(count, why or "none in the host namespace", fn)
	have = util.poll(10, function()
		local l = list(host(), fn)
		return l and #l >= count and l
	end)
	if not have then
		raise("%s: mac80211_hwsim radios=%d loaded, but nl80211 shows fewer radios after 10 s", fn, count)
	end
	return have
end

-- holder is a process that stays in the lab's own namespace, so that a radio
-- can be given back to it by PID (`iw phy set netns PID`) from inside a lab
-- namespace; it is stopped after the radios were given back.
local holder
local function holder_pid()
	if not holder or not holder:alive() then
		holder = host():spawn({"sleep", "2147483647"}, {log = "wifi-netns-holder.log"})
	end
	return holder.pid
end

function wifi.take(n, opts)
	local fn = "wifi.take"
	n = util.netns(n, fn)
	opts = util.options(opts, fn)
	local have = wifi.radios(1)
	local radio
	for _, r in ipairs(have) do
		if opts.phy == nil or r.phy == opts.phy then
			radio = r
			break
		end
	end
	if not radio then
		local names = {}
		for i, r in ipairs(have) do
			names[i] = r.phy
		end
		raise("%s: no radio %s in the host namespace (have: %s)", fn, tostring(opts.phy), table.concat(names, ", "))
	end
	if not radio.iface then
		raise("%s: %s has no network interface (add one: iw phy %s interface add wlan0 type managed)", fn,
			radio.phy, radio.phy)
	end
	local pid = holder_pid()
	local r = iw(host(), {"phy", radio.phy, "set", "netns", "name", n.name}, fn)
	if r.code ~= 0 then
		raise("%s: iw phy %s set netns name %s failed: %s", fn, radio.phy, n.name, util.tail(r.stderr, 3))
	end
	ns.defer(function()
		-- gone already when n was deleted: the kernel gave it back then
		pcall(n.exec, n, {"iw", "phy", radio.phy, "set", "netns", tostring(pid)})
	end)
	return {phy = radio.phy, iface = radio.iface, ns = n}
end

-- radio_for returns opts.radio (checked to be in n) or a radio taken into n.
local function radio_for(n, opts, fn)
	if opts.radio == nil then
		return wifi.take(n, {phy = opts.phy})
	end
	local r = opts.radio
	if type(r) ~= "table" or type(r.iface) ~= "string" or r.ns == nil or r.ns.name ~= n.name then
		raise("%s: option radio must be a radio from wifi.take(%s)", fn, n.name)
	end
	return r
end

-- crypto_hint names the kernel's missing piece when hostapd or
-- wpa_supplicant could not install a key.
local function crypto_hint(text)
	if text:find("key addition failed", 1, true) then
		return " (the kernel could not install the WPA2 key: its ccm/ctr/gcm crypto modules are missing, or modprobe cannot load them)"
	end
	return ""
end

function wifi.ap(n, opts)
	local fn = "wifi.ap"
	n = util.netns(n, fn)
	opts = util.options(opts, fn)
	local ssid = util.need(opts, "ssid", "string", fn)
	local lines = {"driver=nl80211", "ssid=" .. ssid, "hw_mode=" .. (opts.hw_mode or "g"),
		"channel=" .. tostring(opts.channel or 1)}
	if opts.passphrase then
		local p = util.need(opts, "passphrase", "string", fn)
		if #p < 8 or #p > 63 then
			raise("%s: a WPA2 passphrase has 8 to 63 characters, got %d", fn, #p)
		end
		for _, l in ipairs({"wpa=2", "wpa_key_mgmt=WPA-PSK", "rsn_pairwise=CCMP", "wpa_passphrase=" .. p}) do
			lines[#lines + 1] = l
		end
	elseif opts.users then
		for _, l in ipairs({"wpa=2", "wpa_key_mgmt=WPA-EAP", "rsn_pairwise=CCMP"}) do
			lines[#lines + 1] = l
		end
	end
	local radio = radio_for(n, opts, fn)
	local o = setmetatable({ready_timeout = opts.ready_timeout or 60}, {__index = opts})
	local ok, res = pcall(impl.start_hostapd, n, radio.iface, o, lines, fn)
	if not ok then
		error(tostring(res) .. crypto_hint(tostring(res)), 0)
	end
	res.radio = radio
	return res
end

function wifi.station(n, opts)
	local fn = "wifi.station"
	n = util.netns(n, fn)
	opts = util.options(opts, fn)
	local ssid = util.need(opts, "ssid", "string", fn)
	local network, identity, eap = {"ssid=" .. q(ssid), "scan_ssid=1"}, nil, false
	if opts.passphrase then
		network[#network + 1] = "key_mgmt=WPA-PSK"
		network[#network + 1] = "psk=" .. q(util.need(opts, "passphrase", "string", fn))
	elseif opts.identity then
		local eaplines
		eaplines, identity = impl.eap_network(opts, fn)
		network[#network + 1] = "key_mgmt=WPA-EAP"
		for _, l in ipairs(eaplines) do
			network[#network + 1] = l
		end
		eap = true
	else
		network[#network + 1] = "key_mgmt=NONE"
	end
	local radio = radio_for(n, opts, fn)
	local o = setmetatable({ready_timeout = opts.ready_timeout or 30}, {__index = opts})
	local sta = impl.start_supplicant(n, radio.iface, o, {"ap_scan=1"}, network, "nl80211")
	sta.wifi, sta.eap, sta.identity, sta.radio = true, eap, identity, radio
	sta.wait = wifi.wait
	return sta
end

-- wifi.wait reads wpa_supplicant's own events from its log.
function wifi.wait(sta, timeout)
	timeout = timeout or 60
	local result = util.poll(timeout, function()
		local log = sta.proc:output()
		if log:find("CTRL-EVENT-CONNECTED", 1, true) then
			return "connected"
		elseif log:find("CTRL-EVENT-EAP-FAILURE", 1, true) then
			return "eap"
		elseif log:find("reason=WRONG_KEY", 1, true) then
			return "key"
		elseif not sta.proc:alive() then
			return "exited"
		end
	end)
	local where = ("%s/%s"):format(sta.ns.name, sta.iface)
	if result == "connected" then
		-- Under a slow CPU the AP may resend message 1 of the 4-way handshake
		-- after the station completed it: the station redoes the handshake.
		-- Return once it is settled.
		local state
		local settled = util.poll(10, function()
			state = sta:status().wpa_state
			return state == "COMPLETED"
		end)
		if settled then
			return true
		end
		return false, ("connected on %s, but wpa_state is %s 10 s later"):format(where, tostring(state))
	elseif result == "eap" then
		return false, ("EAP authentication of %q failed on %s (wrong credentials?)"):format(sta.identity or "", where)
	elseif result == "key" then
		return false, ("the access point rejected the passphrase of %s (4-way handshake failed: wrong passphrase?)"):format(where)
	end
	local log = sta.proc:output()
	if result == "exited" then
		return false, ("wpa_supplicant on %s exited; last lines of %s:\n%s%s"):format(where, sta.proc.log,
			util.tail(log), crypto_hint(log))
	end
	return false, ("not connected after %g s on %s; last lines of %s:\n%s%s"):format(timeout, where,
		sta.proc.log, util.tail(log), crypto_hint(log))
end

return wifi
