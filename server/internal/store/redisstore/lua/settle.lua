-- End a call: drop its lease and reservation, add the tokens used, give
-- the call back on refund.
-- KEYS: 1 usage hash, 2 lease expiry zset, 3 lease reservation hash
-- ARGV: 1 lease id (may be empty), 2 prompt, 3 completion, 4 refund (0/1),
--       5 last error (may be empty)
if ARGV[1] ~= '' then
  if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
    -- The lease lapsed and its reservation was already charged in full;
    -- charging again would count the call twice.
    return 0
  end
  redis.call('HDEL', KEYS[3], ARGV[1])
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'prompt', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'completion', ARGV[3])
if ARGV[4] == '1' and (tonumber(redis.call('HGET', KEYS[1], 'calls')) or 0) > 0 then
  redis.call('HINCRBY', KEYS[1], 'calls', -1)
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'last_error', ARGV[5])
end
return 1
