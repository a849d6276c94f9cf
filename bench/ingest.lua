-- wrk script for baton's ingest benchmark: POSTs /v1/batch bodies, each of
-- them a batch of simulated Segment messages, with the write key as HTTP Basic.
--
--   [BATON_WRK_DELAY_MS=MS] wrk -t2 -c32 -d20s --latency -s bench/ingest.lua URL -- BODIES AUTH [TAG]
--
--   BODIES    a file of request bodies, one {"batch":[...]} per line
--             (scripts/bench writes it from `baton simulate`)
--   AUTH      the Authorization header's value, "Basic base64(write key + ':')"
--   TAG       a word put into every messageId, so that runs against the same
--             store do not send the same ids (default "r")
--   BATON_WRK_DELAY_MS  when set, a pause before each request of a connection,
--             for a moderate background load; unset, a connection sends its next
--             request as soon as the answer comes. (An environment variable, not
--             an argument: wrk decides whether delay() exists before init() sees
--             the arguments.)
--
-- Every request carries distinct messageIds, or the server would count them as
-- duplicates and skip their work: each thread walks the bodies in turn, and
-- every messageId gets the suffix "-TAG-THREAD-ROUND", where ROUND counts the
-- passes this thread has made over the file. Only the ids change between rounds;
-- the leads, accounts and timestamps are those of the file.
--
-- At the end, done() prints "key: value" lines that scripts/bench reads: the
-- request count, the error counts and the latency percentiles in microseconds
-- (wrk's --latency table stops at p99).

local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("id", thread_count)
end

local bodies = {}     -- bodies[i] = the parts of body i, split where an id suffix goes
local headers = {}
local tag = "r"
local counter = 0

-- Splits a body after the value of every "messageId", so that
-- table.concat(parts, suffix) puts the suffix at the end of each id.
local function split_ids(body)
   local parts = {}
   local from = 1
   while true do
      local _, key_end = body:find('"messageId":"', from, true)
      if not key_end then break end
      local quote = body:find('"', key_end + 1, true)
      if not quote then break end
      parts[#parts + 1] = body:sub(from, quote - 1)
      from = quote
   end
   parts[#parts + 1] = body:sub(from)
   return parts
end

function init(args)
   local path, auth = args[1], args[2]
   if not path or not auth then
      error("usage: wrk ... -s bench/ingest.lua URL -- BODIES AUTH [TAG]")
   end
   tag = args[3] or tag
   local f = assert(io.open(path, "r"))
   for line in f:lines() do
      if #line > 0 then table.insert(bodies, split_ids(line)) end
   end
   f:close()
   if #bodies == 0 then error(path .. ": no request bodies") end
   headers["Authorization"] = auth
   headers["Content-Type"] = "application/json"
end

function request()
   local n = #bodies
   local i = counter % n + 1
   local round = math.floor(counter / n)
   counter = counter + 1
   local suffix = "-" .. tag .. "-" .. id .. "-" .. round
   return wrk.format("POST", "/v1/batch", headers, table.concat(bodies[i], suffix))
end

local pause = tonumber(os.getenv("BATON_WRK_DELAY_MS") or "")
if pause then
   function delay()
      return pause
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("requests: %d\n", summary.requests))
   io.write(string.format("duration_us: %d\n", summary.duration))
   io.write(string.format("bytes: %d\n", summary.bytes))
   io.write(string.format("errors_connect: %d\nerrors_read: %d\nerrors_write: %d\n", e.connect, e.read, e.write))
   io.write(string.format("errors_status: %d\nerrors_timeout: %d\n", e.status, e.timeout))
   io.write(string.format("latency_mean_us: %.1f\nlatency_max_us: %d\n", latency.mean, latency.max))
   for _, p in ipairs({50, 75, 90, 99, 99.9}) do
      io.write(string.format("latency_p%s_us: %d\n", tostring(p), latency:percentile(p)))
   end
end
