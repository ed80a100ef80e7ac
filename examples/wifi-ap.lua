-- wifi-ap.lua: a Wi-Fi access point lab over the air.
--
-- An "ap" namespace gets one radio and runs hostapd (WPA2-PSK, or
-- WPA2-Enterprise PEAP/MSCHAPv2 with hostapd's internal EAP server) and
-- dnsmasq serving DHCP on the wireless interface; a "sta" namespace gets the
-- other radio and runs wpa_supplicant and a DHCP client, then pings the AP.
-- The radios are mac80211_hwsim's (loaded when the kernel has it and there is
-- no radio) or real ones; teardown gives them back.
--
--   nslua examples/wifi-ap.lua [psk|peap] [wrong]
--
-- With "wrong" (a wrong passphrase or password) the station neither
-- associates nor gets a lease. Under an emulated CPU, association takes ~20 s.

local wifi = require("nslua.wifi")
local dhcp = require("nslua.dhcp")

local mode = arg[1] or "psk"
local wrong = arg[2] == "wrong"
if (mode ~= "psk" and mode ~= "peap") or (arg[2] and not wrong) then
	error("usage: nslua wifi-ap.lua [psk|peap] [wrong]")
end

wifi.radios(2) -- raises, saying what is missing, without two radios
local p = ns.lab().name .. "-"
local apns, stans = ns.add(p .. "ap"), ns.add(p .. "sta")

local ssid, secret = "nslua-lab", "correct horse battery"
local ap, station = {ssid = ssid}, {ssid = ssid}
if mode == "psk" then
	ap.passphrase = secret
	station.passphrase = wrong and "not the passphrase" or secret
else
	ap.users = {alice = secret}
	ap.methods, ap.phase2 = {"PEAP"}, {"MSCHAPV2"}
	station.method, station.identity = "PEAP", "alice"
	station.password = wrong and "not the password" or secret
end

local a = wifi.ap(apns, ap)
apns:addr(a.iface, "10.77.0.1/24")
dhcp.server(apns, {iface = a.iface, range = {100, 150}})
print(("AP %s up: hostapd on %s/%s (%s), dnsmasq on 10.77.0.1"):format(ssid, apns.name, a.iface, a.radio.phy))

local sta = wifi.station(stans, station)
local ok, why = sta:wait(90)
local lease = ok and dhcp.udhcpc(stans, sta.iface, {check = false, tries = 10})
if wrong then
	if ok then
		error("the station associated with a wrong " .. (mode == "psk" and "passphrase" or "password"))
	end
	lease = dhcp.udhcpc(stans, sta.iface, {check = false, tries = 3})
	if lease then
		error("the station got a lease without associating: " .. tostring(lease.ip))
	end
	print("wrong credentials: not associated (" .. why .. "), no lease")
	return
end
if not ok then
	error("the station did not associate: " .. why)
end
if not lease then
	error("associated, but no DHCP lease over the air")
end
print(("associated with %s (%s); lease %s from %s"):format(ssid, mode, lease.ip, tostring(lease.server or lease.router)))
stans:exec({"ping", "-c", "3", "-W", "5", "10.77.0.1"}, {check = true, timeout = 30})
print("ping to the AP across the air: ok")
