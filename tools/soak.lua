-- soak.lua — the wrk client of tools/soak.sh: a mix of every route, counted.
--
-- Usage: wrk ... -s tools/soak.lua URL -- REQUESTS_FILE [MAX_REQUESTS]
-- REQUESTS_FILE has one request per line: the path and query, then
-- optional headers, tab-separated ("If-None-Match: \"...\"",
-- "Accept-Encoding: gzip"). tools/soak.sh writes it from the server's own
-- catalogue (/tiles.json), ETags and ORPHAcodes.
--
-- Each wrk thread asks every line in its own deterministic shuffled order
-- (so the threads do not move in step over the same routes), counts the
-- statuses in response(), stops after MAX_REQUESTS answers (default
-- unbounded: wrk's -d bounds the run), and done() prints, for soak.sh:
--   soak requests N
--   soak duration_s S
--   soak latency_p99_ms MS, soak latency_max_ms MS
--   soak status CODE N        (one line per status seen)
--   soak errors connect N read N write N timeout N
-- Everything is per run; nothing is written to disk.

local threads = {}

function setup(thread)
    thread:set("thread_number", #threads + 1)
    table.insert(threads, thread)
end

local requests = {}
local position = 0
local answers, max_answers = 0, math.huge
statuses = {}

-- A small deterministic generator (wrk's math.random is shared state per thread).
local function shuffle(list, seed)
    local state = seed
    for i = #list, 2, -1 do
        state = (state * 1103515245 + 12345) % 2147483648
        local j = 1 + state % i
        list[i], list[j] = list[j], list[i]
    end
end

local function split_tabs(line)
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do
        table.insert(fields, field)
    end
    return fields
end

function init(args)
    local name = args[1]
    local file = name and io.open(name, "r")
    if not file then
        error("soak.lua: cannot read the requests file " .. tostring(name))
    end
    for line in file:lines() do
        local fields = split_tabs(line)
        if #fields > 0 then
            local headers = {}
            for i = 2, #fields do
                local header, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
                if header then
                    headers[header] = value
                end
            end
            table.insert(requests, wrk.format("GET", fields[1], headers))
        end
    end
    file:close()
    if #requests == 0 then
        error("soak.lua: no request in " .. name)
    end
    shuffle(requests, 7919 * (thread_number or 1))
    max_answers = tonumber(args[2]) or math.huge
end

function request()
    position = position % #requests + 1
    return requests[position]
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    answers = answers + 1
    if answers >= max_answers then
        wrk.thread:stop()
    end
end

function done(summary, latency, done_requests)
    local total = {}
    for _, thread in ipairs(threads) do
        local counts = thread:get("statuses")
        for status, count in pairs(counts or {}) do
            total[status] = (total[status] or 0) + count
        end
    end
    io.write(string.format("soak requests %d\n", summary.requests))
    io.write(string.format("soak duration_s %.3f\n", summary.duration / 1e6))
    io.write(string.format("soak latency_p99_ms %.1f\n", latency:percentile(99) / 1000))
    io.write(string.format("soak latency_max_ms %.1f\n", latency.max / 1000))
    local codes = {}
    for status in pairs(total) do
        table.insert(codes, status)
    end
    table.sort(codes)
    for _, status in ipairs(codes) do
        io.write(string.format("soak status %d %d\n", status, total[status]))
    end
    local errors = summary.errors
    io.write(string.format("soak errors connect %d read %d write %d timeout %d\n",
        errors.connect, errors.read, errors.write, errors.timeout))
end
