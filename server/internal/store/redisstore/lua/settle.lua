-- End a call: drop its lease and reservation, add the tokens used, give
-- the call back on refund while the token's refunds are below the limit
-- (store.RefundAllowed, internal/store/decide.go; keep them in step).
-- KEYS: 1 usage hash, 2 lease expiry zset, 3 lease reservation hash
-- ARGV: 1 lease id (may be empty), 2 prompt, 3 completion, 4 refund (0/1),
--       5 last error (may be empty), 6 refund limit (0: none)
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
if ARGV[4] == '1' then
  local st = redis.call('HMGET', KEYS[1], 'calls', 'refunds')
  local calls, refunds = tonumber(st[1]) or 0, tonumber(st[2]) or 0
  local limit = tonumber(ARGV[6]) or 0
  -- Past the limit the call stays spent: a token whose provider keeps
  -- failing cannot be given its calls back forever.
  if calls > 0 and (limit <= 0 or refunds < limit) then
    redis.call('HINCRBY', KEYS[1], 'calls', -1)
    redis.call('HINCRBY', KEYS[1], 'refunds', 1)
  end
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'last_error', ARGV[5])
end
return 1
