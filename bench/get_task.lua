-- get_task.lua -- wrk script for the GET /v1/tasks/{id} benchmark.
--
-- Measures requests/s and latency of fetching one task: every request asks
-- for a random id in [ID_MIN, ID_MAX] (tasks imported earlier in the run)
-- with the API key of LOUPE_KEY as "Authorization: Bearer".  The same
-- script drives the static_mhd reference, which ignores the path.  done()
-- prints one "RESULT" line of key=value pairs that bench/run reads.
local key = os.getenv("LOUPE_KEY") or ""
local lo = tonumber(os.getenv("ID_MIN") or "1")
local hi = tonumber(os.getenv("ID_MAX") or "1")
local threads = 0

wrk.headers["Authorization"] = "Bearer " .. key

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
   return wrk.format("GET", "/v1/tasks/" .. math.random(lo, hi))
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "non2xx=%d socket_errors=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end
