-- The wrk script: `init` reads the image files; `unique` appends a tag (run, thread, request)
-- after the image's end (decoders stop at the end marker, so the image is the same but its sha256 is new);
-- a delay drawn from an exponential distribution paces each connection; `done` prints a JSON line.
local bodies, unique, pause, salt, counter = {}, false, 0, "", 0
local threads = {}
tag = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tag", #threads)
end

function init(args)
  unique = args[1] == "unique"
  pause = tonumber(args[2])
  salt = args[3]
  for i = 4, #args do
    local file = assert(io.open(args[i], "rb"))
    bodies[#bodies + 1] = file:read("*all")
    file:close()
  end
end

function delay()
  if pause > 0 then return -pause * math.log(1 - math.random()) end
  return 0
end

function request()
  counter = counter + 1
  local body = bodies[counter % #bodies + 1]
  if unique then body = body .. string.format("fishops-load-%s-%d-%d", salt, tag, counter) end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/octet-stream" }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
