-- wrk script for the webhook door. Arguments after "--": <requests file or "-"> <threads> <rate per second or 0>
-- [<path>, default /webhooks/stripe/: the bare-view baseline is sent the same requests]
--
-- The file holds one pre-signed request per line, "<Stripe-Signature>\t<body>" (wrk's Lua cannot
-- compute an HMAC). Thread k sends lines k, k+threads, k+2*threads, ... so no event is sent twice;
-- "-" sends wrk's default request. A rate above 0 paces each thread with
-- a wall clock, so the server sees about that many requests per second whatever its latency.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  source = args[1] or "-"
  local nthreads = tonumber(args[2] or "1")
  local rate = tonumber(args[3] or "0")
  local path = args[4] or "/webhooks/stripe/"
  repeat_queue = path ~= "/webhooks/stripe/"
  interval = rate > 0 and (1000 * nthreads / rate) or 0
  next_at = 0
  queue = {}
  if source ~= "-" then
    local i = 0
    for line in io.lines(source) do
      if i % nthreads == id then
        local tab = string.find(line, "\t", 1, true)
        local headers = {["Content-Type"] = "application/json", ["Stripe-Signature"] = string.sub(line, 1, tab - 1)}
        queue[#queue + 1] = wrk.format("POST", path, headers, string.sub(line, tab + 1))
      end
      i = i + 1
    end
  end
  position = 1
  sent, ok, duplicate, failed, exhausted = 0, 0, 0, 0, 0
end

function delay()
  if interval == 0 then
    return 0
  end
  local now = now_ms()
  if next_at == 0 then
    next_at = now
  end
  next_at = next_at + interval
  return math.max(0, next_at - interval - now)
end

function request()
  if source == "-" then
    sent = sent + 1
    return wrk.request()
  end
  if position > #queue and repeat_queue then
    position = 1  -- the baseline stores nothing: its requests may repeat
  end
  if position > #queue then
    -- Out of unique events: stop rather than send one twice (the report flags it).
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  local r = queue[position]
  position = position + 1
  sent = sent + 1
  return r
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    if body and string.find(body, "duplicate", 1, true) then
      duplicate = duplicate + 1
    else
      ok = ok + 1
    end
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local totals = {sent = 0, ok = 0, duplicate = 0, failed = 0, exhausted = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non2xx": %d, "socket_errors": %d, "timeouts": %d, "sent": %d, "ok": %d, "duplicate": %d, "failed": %d, ' ..
    '"exhausted": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write, e.timeout, totals.sent, totals.ok, totals.duplicate,
    totals.failed, totals.exhausted))
end
