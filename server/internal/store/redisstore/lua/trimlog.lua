-- Trim a token's log stream to entries at or after a minimum id, and
-- delete it when nothing is left (an empty stream does not vanish alone).
-- KEYS: 1 stream. ARGV: 1 minimum id.
redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
end
return 0
