-- wrk script for `python -m bench.run search`: GET /api/v1/missions.
--   SEARCH_MODE=uncached: every request a different place (random point in a French city
--     area, random radius and words), so the portal's result cache never answers;
--   SEARCH_MODE=cached: the same query every time, answered from the Redis result cache.
-- done() is reference.lua's, loaded from next to this file: one `BENCH_JSON {...}` line with
-- exact percentiles.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "reference.lua")

local mode = os.getenv("SEARCH_MODE") or "uncached"
local words = {"distribution", "soutien scolaire", "visite", "maraude", "collecte", "numerique",
               "courses", "accueil", "jardin", "devoirs"}
local cities = {{48.86, 2.38}, {45.75, 4.84}, {43.30, 5.38}, {50.63, 3.06}, {43.60, 1.44},
                {44.84, -0.58}, {47.22, -1.55}, {48.58, 7.75}, {48.11, -1.68}, {43.61, 3.88}}
local headers = {["Host"] = "localhost"}
statuses = {}

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  if mode == "cached" then
    return wrk.format("GET", "/api/v1/missions?q=distribution&lat=48.86&lng=2.38&radius_km=20",
                      headers)
  end
  local c = cities[math.random(#cities)]
  local lat = c[1] + (math.random() - 0.5) * 0.6
  local lng = c[2] + (math.random() - 0.5) * 0.8
  local q = words[math.random(#words)]
  local path = string.format("/api/v1/missions?q=%s&lat=%.5f&lng=%.5f&radius_km=%d",
                             q:gsub(" ", "+"), lat, lng, math.random(5, 30))
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
