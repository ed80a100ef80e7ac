-- nslua.expect: assertions for lab tests (`nslua test`), whose failures
-- read like a network engineer's notes: what was expected, what was seen.
--
--   local expect = require("nslua.expect")
--   expect.ping(client, "10.0.0.1")
--
-- A failed expectation raises an error that `nslua test` reports as FAIL
-- (any other error is reported as an error), with the test's file:line.
--
-- expect.ping(from, addr [, opts])
--   from (a Netns) pings addr and gets an answer; opts.count (default 1), opts.timeout
--   (seconds per answer, default 2).
-- expect.no_ping(from, addr [, opts])
--   No answer comes (same opts).
-- expect.tcp(from, addr, port [, timeout])
--   A TCP connect from `from` to addr:port succeeds within timeout seconds (default 3).
-- expect.no_tcp(from, addr, port [, timeout])
--   It does not.
-- expect.lease(n, dev, range)
--   dev in n has an IPv4 address inside range: "10.0.0.100-10.0.0.200" or a prefix "10.0.0.0/24".
-- expect.route(n, dst [, via])
--   n has a route to dst (a prefix, or "default"), through via when given.
-- expect.listening(n, port [, proto])
--   A socket listens on port (proto "tcp", the default, or "udp") in n.
-- expect.log(proc, pattern [, timeout])
--   A line of proc's log matches the Lua pattern within timeout seconds (default 5).
-- expect.eq(got, want [, what])
--   got == want.
-- expect.truthy(v [, what])
--   v is neither nil nor false.
-- expect.error(fn [, pattern])
--   fn() raises, with a message matching the Lua pattern when given.
-- expect.fail(msg)
--   Fail the test with msg.
local M = {}

local own_source = debug.getinfo(1, "S").source

-- where is the file:line of the first caller outside this library.
local function where()
  for level = 2, 50 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source ~= own_source and info.currentline and info.currentline > 0 then
      return info.source .. ":" .. info.currentline
    end
  end
  return "?"
end

local function fail(fmt, ...)
  error({ nslua_fail = where() .. ": " .. string.format(fmt, ...) }, 0)
end
M.fail = function(msg) fail("%s", tostring(msg)) end

local function indent(text)
  text = (text or ""):gsub("%s+$", "")
  if text == "" then return "(no output)" end
  return "\n    " .. text:gsub("\n", "\n    ")
end

local function opts_of(fn, opts, allowed)
  opts = opts or {}
  if type(opts) ~= "table" then
    error(fn .. ": options must be a table, got " .. type(opts), 3)
  end
  for k in pairs(opts) do
    if not allowed[k] then error(fn .. ": unknown option " .. tostring(k), 3) end
  end
  return opts
end

local function ping(from, addr, opts)
  opts = opts_of("expect.ping", opts, { count = true, timeout = true })
  local count, timeout = opts.count or 1, opts.timeout or 2
  return from:exec({ "ping", "-n", "-c", tostring(count), "-W", tostring(timeout), addr },
    { timeout = count * timeout + 5 })
end

function M.ping(from, addr, opts)
  local r = ping(from, addr, opts)
  if r.code ~= 0 then
    fail("expected %s to answer a ping from %s; no answer (ping exit %d):%s",
      addr, from.name, r.code, indent(r.stdout .. r.stderr))
  end
  return r
end

function M.no_ping(from, addr, opts)
  local r = ping(from, addr, opts)
  if r.code == 0 then
    fail("expected %s not to answer a ping from %s; it answered:%s", addr, from.name, indent(r.stdout))
  end
  return r
end

local function tcp(from, addr, port, timeout)
  local host = addr:find(":", 1, true) and ("[" .. addr .. "]") or addr
  return from:exec({ "timeout", tostring(timeout or 3), "bash", "-c",
    "exec 3<>/dev/tcp/" .. host .. "/" .. tostring(port) }, { timeout = (timeout or 3) + 5 })
end

function M.tcp(from, addr, port, timeout)
  local r = tcp(from, addr, port, timeout)
  if r.code ~= 0 then
    fail("expected a TCP connection from %s to %s port %s; it failed:%s", from.name, addr, tostring(port),
      indent(r.stderr))
  end
end

function M.no_tcp(from, addr, port, timeout)
  if tcp(from, addr, port, timeout).code == 0 then
    fail("expected no TCP connection from %s to %s port %s; it connected", from.name, addr, tostring(port))
  end
end

-- IPv4 helpers for lease ranges.
local function v4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

-- in_range reports whether address addr (no prefix length) is in range:
-- "A-B" (inclusive) or "A/len".
local function in_range(addr, range)
  local x = v4(addr)
  if not x then return false end
  local lo, hi = range:match("^([%d.]+)%s*%-%s*([%d.]+)$")
  if lo then return v4(lo) and v4(hi) and x >= v4(lo) and x <= v4(hi) end
  local base, len = range:match("^([%d.]+)/(%d+)$")
  if not base or not v4(base) then error("expect.lease: range must be A-B or A/LEN, got " .. range, 4) end
  local size = 2 ^ (32 - tonumber(len))
  return math.floor(x / size) == math.floor(v4(base) / size)
end
M._in_range = in_range

function M.lease(n, dev, range)
  local addrs = n:link(dev):addrs()
  for _, cidr in ipairs(addrs) do
    if in_range(cidr:match("^[^/]+"), range) then return cidr end
  end
  fail("expected %s in %s to hold an address in %s (a DHCP lease); it has %s", dev, n.name, range,
    #addrs > 0 and table.concat(addrs, " ") or "none")
end

function M.route(n, dst, via)
  local seen = {}
  for _, r in ipairs(n:inspect().routes) do
    if r.dst == dst and (via == nil or r.via == via) then return r end
    seen[#seen + 1] = r.dst .. (r.via and r.via ~= "" and (" via " .. r.via) or "")
  end
  fail("expected a route to %s%s in %s; the routes are: %s", dst, via and (" via " .. via) or "", n.name,
    #seen > 0 and table.concat(seen, ", ") or "none")
end

function M.listening(n, port, proto)
  local seen = {}
  for _, s in ipairs(n:inspect().listen or {}) do
    local p = tonumber(s["local"]:match(":(%d+)$"))
    if p == port and (proto == nil or s.proto == proto) then return s end
    seen[#seen + 1] = s.proto .. " " .. s["local"]
  end
  fail("expected something listening on %s port %d in %s; listening: %s", proto or "tcp/udp", port, n.name,
    #seen > 0 and table.concat(seen, ", ") or "nothing")
end

function M.log(proc, pattern, timeout)
  local deadline = ns.clock() + (timeout or 5)
  repeat
    if proc:output():find(pattern) then return end
    if not proc:alive() then break end
    ns.sleep(0.05)
  until ns.clock() > deadline
  if proc:output():find(pattern) then return end
  local tail = proc:output():sub(-800)
  fail("expected a line matching %q in the log of %s within %gs; %s, log ends:%s", pattern, proc.cmd,
    timeout or 5, proc:alive() and "it is running" or "it exited", indent(tail))
end

function M.eq(got, want, what)
  if got ~= want then
    fail("%s: expected %s, got %s", what or "value", tostring(want), tostring(got))
  end
end

function M.truthy(v, what)
  if not v then fail("%s: expected a true value, got %s", what or "value", tostring(v)) end
  return v
end

function M.error(fn, pattern)
  local ok, err = pcall(fn)
  if ok then fail("expected an error%s, got none", pattern and (" matching " .. pattern) or "") end
  if pattern and not tostring(err):find(pattern) then
    fail("expected an error matching %q, got: %s", pattern, tostring(err))
  end
  return err
end

return M
