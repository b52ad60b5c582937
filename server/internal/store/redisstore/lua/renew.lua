-- Extend a live lease; one that already lapsed (and may have been charged)
-- is not revived.
-- KEYS: 1 lease expiry zset. ARGV: 1 lease id, 2 now (ms), 3 new expiry (ms).
local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if expiry and expiry > tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
  return 1
end
return 0
