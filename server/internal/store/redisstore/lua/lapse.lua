-- Shared by admit.lua and hold.lua (scripts.go puts it in front of them):
-- leases a crashed or stalled relay stopped renewing end here, and their
-- reservations are charged as used, since the provider may have served
-- the call in full and a budget must never be overshot.
local function lapse(usage, leases, reserved, now)
  local lapsed = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  if #lapsed == 0 then
    return
  end
  local charged = 0
  for _, id in ipairs(lapsed) do
    charged = charged + (tonumber(redis.call('HGET', reserved, id)) or 0)
    redis.call('HDEL', reserved, id)
  end
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if redis.call('EXISTS', usage) == 1 then
    redis.call('HINCRBY', usage, 'completion', charged)
    redis.call('HSET', usage, 'last_error', 'lease_expired')
  end
end

