-- Charge a call in progress and re-size its lease's reservation in one
-- atomic step: sweep lapsed leases (lapse.lua), then store.Rehold
-- (internal/store/store.go; keep them in step).
-- KEYS: 1 usage hash, 2 lease expiry zset, 3 lease reservation hash
-- ARGV: 1 lease id, 2 now (ms), 3 token_budget, 4 prompt, 5 completion,
--       6 wanted reservation
-- Reply: lapsed (0/1), reserved, budget remaining
local usage, leases, reserved = KEYS[1], KEYS[2], KEYS[3]
local id, now = ARGV[1], tonumber(ARGV[2])
local budget, want = tonumber(ARGV[3]), tonumber(ARGV[6])
local prompt, completion = tonumber(ARGV[4]), tonumber(ARGV[5])

lapse(usage, leases, reserved, now) -- lapse.lua

-- A lapsed lease was charged in full and a settled one is done: charging
-- now would count the tokens twice.
if not redis.call('ZSCORE', leases, id) or redis.call('EXISTS', usage) == 0 then
  return {1, 0, 0}
end
if prompt ~= 0 or completion ~= 0 then
  redis.call('HINCRBY', usage, 'prompt', ARGV[4])
  redis.call('HINCRBY', usage, 'completion', ARGV[5])
end

local mine = tonumber(redis.call('HGET', reserved, id)) or 0
local res, left = 0, 0
if budget > 0 then
  local st = redis.call('HMGET', usage, 'prompt', 'completion')
  local used = (tonumber(st[1]) or 0) + (tonumber(st[2]) or 0)
  local others = -mine
  for _, v in ipairs(redis.call('HVALS', reserved)) do
    others = others + tonumber(v)
  end
  local avail = math.max(budget - used - others, 0)
  res = math.min(math.max(want, 0), avail)
  left = avail - res
end
if res ~= mine then
  redis.call('HSET', reserved, id, res)
end
return {0, res, left}
