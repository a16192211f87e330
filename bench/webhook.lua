-- wrk script for the webhook ingest benchmark: webCRM organisation notices, each for a record of its own.
-- Usage: wrk ... -s bench/webhook.lua <url> -- <first record id>
-- Record ids are <first> + thread * 100000000 + n, so no two requests coalesce. Prints one JSON line:
-- answers counted, requests built (sent, the answered ones and those in flight when wrk stopped), and so on.

local threads = {}
local first = 0
counter = 0  -- global, so that done() can read each thread's count

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  first = tonumber(args[1] or "0")
end

function request()
  counter = counter + 1
  local id = first + thread_number * 100000000 + counter
  local body = '{"HookId": 1, "EventType": "Update", "EntityType": "Organisation", "EntityId": ' .. id
    .. ', "Timestamp": "2026-01-01T00:00:00", "Data": {"OrganisationId": ' .. id .. '}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local sent = 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("counter")
  end
  io.write(string.format(
    '{"requests": %d, "sent": %d, "non_2xx": %d, "socket_errors": %d, "seconds": %.3f, "p50_ms": %.2f, '
      .. '"p99_ms": %.2f}\n',
    summary.requests, sent, e.status, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
