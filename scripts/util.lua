-- nslua.util: small helpers shared by nslua's built-in libraries (nslua.topo,
-- nslua.dhcp, nslua.ap). Usable from scripts, but not part of the contract.
--
-- util.register(source)
--   count a chunk as library code for util.raise
-- util.raise(fmt, ...)
--   raise fmt:format(...) at the user's line
-- util.options(opts, fn) -> opts
--   opts, or {} when nil; raises when not a table
-- util.opts(fn, opts, allowed) -> opts
--   util.options, and raises on a key not in allowed (a list of names), as nslua's own functions do
-- util.confval(fn, what, v) -> string
--   tostring(v), refused when it holds a newline, CR or NUL (it goes into a daemon's config file)
-- util.need(opts, key, kind, fn) -> value
--   a required option of type kind
-- util.netns(v, fn) -> Netns
--   a Netns, or the Netns of a pinned namespace's name
-- util.dir() -> path
--   the lab's state directory (ns.lab().dir)
-- util.file(...) -> path
--   a path in that directory, parts joined by "-"
-- util.write(path, content [, mode [, n]])
--   write a file; mode "755" makes it executable; with a Netns n of another host
--   (n.host ~= "local"), the file is written on that host (as n's programs see path)
-- util.read(path [, n]) -> string|nil
--   a file's contents, nil when it does not exist; with n of another host, read there
-- util.poll(timeout, fn) -> value|nil
--   call fn every 50 ms until it returns a true value, for up to timeout seconds (ns.clock)
-- util.tail(text [, n]) -> string
--   the last n (default 8) lines of text
-- util.quote(s) -> string
--   s in double quotes for hostapd/wpa_supplicant files
-- util.list(v) -> table
--   v itself if a table, {v} for one value, {} for nil

local ns = require("nslua")

local util = {}

local libsrc = {}

-- util.register(source): frames of chunk `source` are skipped by util.raise
function util.register(source)
	libsrc[source] = true
end
util.register(debug.getinfo(1, "S").source)

-- util.raise(fmt, ...): errors name the line of the user's script, not of a
-- library: walk up the stack past library and Go frames.
function util.raise(fmt, ...)
	local msg = select("#", ...) > 0 and fmt:format(...) or fmt
	local level = 2
	while true do
		local info = debug.getinfo(level, "Sl")
		if not info then
			error(msg, 0)
		end
		if info.what ~= "G" and info.what ~= "C" and not libsrc[info.source]
			and info.currentline and info.currentline > 0 then
			error(("%s:%d: %s"):format(info.source:gsub("^@", ""), info.currentline, msg), 0)
		end
		level = level + 1
	end
end
local raise = util.raise

function util.options(opts, fn)
	if opts == nil then
		return {}
	end
	if type(opts) ~= "table" then
		raise("%s: expected an options table, got %s", fn, type(opts))
	end
	return opts
end

function util.opts(fn, opts, allowed)
	opts = util.options(opts, fn)
	local known = {}
	for _, k in ipairs(allowed) do
		known[k] = true
	end
	for k in pairs(opts) do
		if type(k) ~= "string" then
			raise("%s: options must have string keys, got %s", fn, type(k))
		end
		if not known[k] then
			local names = {}
			for i, a in ipairs(allowed) do
				names[i] = a
			end
			table.sort(names)
			raise("%s: unknown option %q (known: %s)", fn, k, table.concat(names, ", "))
		end
	end
	return opts
end

local function badchar(s)
	return s:find("\n", 1, true) or s:find("\r", 1, true) or s:find("\0", 1, true)
end

function util.confval(fn, what, v)
	local s = tostring(v)
	if badchar(s) then
		raise("%s: %s %q holds a newline, CR or NUL, which cannot go into a configuration file", fn, what, s)
	end
	return s
end

function util.need(opts, key, kind, fn)
	local v = opts[key]
	if v == nil then
		raise("%s: option %s is required", fn, key)
	end
	if type(v) ~= kind then
		raise("%s: option %s must be a %s, got %s", fn, key, kind, type(v))
	end
	return v
end

function util.netns(v, fn)
	if type(v) == "string" then
		return ns.open(v)
	end
	if type(v) ~= "userdata" then
		raise("%s: argument #1 must be a Netns or a namespace name, got %s", fn, type(v))
	end
	return v
end

function util.dir()
	return ns.lab().dir
end

-- util.file("dnsmasq", "lab-ap", "br0.leases") -> LABDIR/dnsmasq-lab-ap-br0.leases
-- Anything but letters, digits, ".", "_" and "-" becomes "_".
function util.file(...)
	local parts = {}
	for i, p in ipairs({...}) do
		parts[i] = tostring(p):gsub("[^%w%._%-]", "_")
	end
	return util.dir() .. "/" .. table.concat(parts, "-")
end

function util.write(path, content, mode, n)
	if n and n.host ~= "local" then
		if mode and not tostring(mode):match("^[0-7]+$") then
			raise("write %s: mode %s is not octal", path, tostring(mode))
		end
		local chmod = mode and (' && chmod ' .. mode .. ' "$1"') or ""
		local r = n:exec({"sh", "-c", 'cat > "$1"' .. chmod, "sh", path}, {stdin = content})
		if r.code ~= 0 then
			raise("write %s on host %s: %s", path, n.host, r.stderr)
		end
		return path
	end
	local f, err = io.open(path, "w")
	if not f then
		raise("write %s: %s", path, tostring(err))
	end
	f:write(content)
	f:close()
	if mode then
		local r = ns.host():exec({"chmod", mode, path})
		if r.code ~= 0 then
			raise("chmod %s %s: %s", mode, path, r.stderr)
		end
	end
	return path
end

function util.read(path, n)
	if n and n.host ~= "local" then
		return n:file(path)
	end
	local f = io.open(path, "r")
	if not f then
		return nil
	end
	local s = f:read("*a")
	f:close()
	return s
end

function util.poll(timeout, fn)
	local deadline = ns.clock() + timeout
	while true do
		local v = fn()
		if v then
			return v
		end
		if ns.clock() >= deadline then
			return nil
		end
		ns.sleep(0.05)
	end
end

function util.tail(text, n)
	n = n or 8
	local lines = {}
	for line in (text or ""):gmatch("[^\n]+") do
		lines[#lines + 1] = line
	end
	local from = math.max(1, #lines - n + 1)
	return table.concat(lines, "\n", from)
end

function util.quote(s)
	s = tostring(s)
	if s:find('"', 1, true) or badchar(s) then
		raise("%q cannot be written into a configuration file (quote, newline, CR or NUL)", s)
	end
	return '"' .. s .. '"'
end

function util.list(v)
	if v == nil then
		return {}
	end
	if type(v) == "table" then
		return v
	end
	return {v}
end

return util
