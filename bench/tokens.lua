-- wrk script of the soak scenario (bench/run soak): POST the same small
-- chat completion as post.lua, each request with the next token of the
-- file named by $TOKENS_FILE (one per line), round robin, so N distinct
-- tokens are cycled as N user sessions would be. One token in the file is
-- the one-token baseline, with the same load generator cost.
--
--   TOKENS_FILE=tokens.txt wrk -t1 -c32 -d60s -s bench/tokens.lua http://HOST:PORT/v1/chat/completions
--
-- Prints one JSON line on stdout like post.lua (errors.status counts
-- answers >= 400). With several wrk threads each starts at its own offset.

local path = os.getenv("TOKENS_FILE")
if path == nil or path == "" then
  io.stderr:write("tokens.lua: the TOKENS_FILE environment variable is empty\n")
  os.exit(2)
end

local body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in five words."}]}'
local tokens, n, i = {}, 0, 0
local threads = 0

function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end

function init(args)
  local f = io.open(path, "r")
  if f == nil then
    io.stderr:write("tokens.lua: cannot open TOKENS_FILE\n")
    os.exit(2)
  end
  for line in f:lines() do
    if line ~= "" then
      n = n + 1
      tokens[n] = line
    end
  end
  f:close()
  if n == 0 then
    io.stderr:write("tokens.lua: TOKENS_FILE holds no token\n")
    os.exit(2)
  end
  -- Threads start at different places in the file (setup() set thread_no).
  i = ((thread_no or 0) * math.floor(n / 7)) % n
end

local headers = {["Content-Type"] = "application/json"}

function request()
  i = i + 1
  if i > n then i = 1 end
  headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f,"max":%.0f,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
