-- Take one call of a subject's window if the window is not full.
-- KEYS: 1 window counter. ARGV: 1 limit, 2 key expiry (ms).
-- Reply: 1 taken, 0 full.
local n = tonumber(redis.call('GET', KEYS[1])) or 0
if n >= tonumber(ARGV[1]) then
  return 0
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
