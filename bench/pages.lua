-- pages.lua -- wrk script for the "page of 100 tasks from a 1,000,000-task
-- project" benchmark.
--
-- Measures the latency of GET /v1/projects/{PROJECT}/tasks?limit=100&
-- next_token=T, cycling over the comma-separated cursor tokens of TOKENS
-- (each thread starts at its own offset), with the API key of LOUPE_KEY.
-- bench/run runs it once per group of pages (first, middle, last pages of
-- the project) so the latency can be compared across page depth.  done()
-- prints one "RESULT" line of key=value pairs that bench/run reads.
local key = os.getenv("LOUPE_KEY") or ""
local project = os.getenv("PROJECT") or "1"
local tokens = {}
for t in string.gmatch(os.getenv("TOKENS") or "", "[^,]+") do
   tokens[#tokens + 1] = t
end
local threads = 0

wrk.headers["Authorization"] = "Bearer " .. key

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   i = (tid or 0) * 7
end

function request()
   i = i + 1
   local t = tokens[(i % #tokens) + 1]
   return wrk.format("GET", "/v1/projects/" .. project .. "/tasks?limit=100&next_token=" .. t)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "non2xx=%d socket_errors=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect + e.read + e.write + e.timeout))
end
