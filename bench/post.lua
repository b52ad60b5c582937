-- wrk script of the saturation scenario (bench/run): POST one small chat
-- completion with the token from the environment, and report the result
-- as ONE JSON line on stdout, which bench/run parses instead of wrk's text.
--
--   TOKEN=... wrk -t1 -c64 -d10s --latency -s bench/post.lua http://HOST:PORT/v1/chat/completions
--
-- errors.status is wrk's own count of responses with status >= 400: any
-- non-zero value fails the run (a relay answering 429 fast is not
-- throughput). No response() callback is defined on purpose: it would make
-- wrk parse every response in Lua and turn the load generator into the
-- bottleneck. bench/run checks one response for 200 + JSON before the load.

local token = os.getenv("TOKEN")
if token == nil or token == "" then
  io.stderr:write("post.lua: the TOKEN environment variable is empty\n")
  os.exit(2)
end

wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in five words."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

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
