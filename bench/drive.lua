-- One kind of request, sent by wrk for bench/wrk.py, with every answer checked.
--
-- Arguments after wrk's "--", each key=value:
--   path=/account      the request's path (method=POST and body=... for a form)
--   cookie=name=value  a Cookie header sent with every request
--   pool=FILE          instead: one cookie value a line, each sent once, in order
--                      (pool_cookie=name; one wrk thread, so no line goes out twice)
--   status=200         the status every answer must have
--   marker=TEXT        text every answer's body must hold
--   location=/account  what every answer's Location must end with
--   user_agent=TEXT    the User-Agent header of every request, as a browser sends one
-- At the end one line, "wrk-result {...}", gives the counts and latencies as JSON, and
-- how many pool lines were taken (sent, or about to be when wrk stopped).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  options = {}
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    options[key] = value
  end
  expected_status = tonumber(options.status or "200")
  unexpected, exhausted = 0, 0
  local headers = {["User-Agent"] = options.user_agent}
  if options.cookie then headers["Cookie"] = options.cookie end
  if options.body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  fixed = wrk.format(options.method or "GET", options.path, headers, options.body)
  pool, taken = {}, 0
  if options.pool then
    for line in io.lines(options.pool) do table.insert(pool, line) end
  end
end

function request()
  if not options.pool then return fixed end
  taken = taken + 1
  local value = pool[taken]
  if value == nil then
    -- Out of cookies: this request is sent without one and counted, and the run fails.
    exhausted = exhausted + 1
    return fixed
  end
  local headers = {["User-Agent"] = options.user_agent}
  headers["Cookie"] = options.pool_cookie .. "=" .. value
  return wrk.format("GET", options.path, headers)
end

function response(status, headers, body)
  local good = status == expected_status
  if good and options.marker then good = body:find(options.marker, 1, true) ~= nil end
  if good and options.location then
    local location = headers["Location"] or ""
    good = location:sub(-#options.location) == options.location
  end
  if not good then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local unexpected_total, exhausted_total, taken_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
    exhausted_total = exhausted_total + thread:get("exhausted")
    taken_total = taken_total + thread:get("taken")
  end
  local errors = summary.errors
  io.write(string.format(
    'wrk-result {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, ' ..
    '"unexpected": %d, "exhausted": %d, "taken": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, unexpected_total, exhausted_total, taken_total))
end
