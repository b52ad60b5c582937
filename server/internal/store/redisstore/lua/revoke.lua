-- Record a revocation once. It expires with the token's state when the
-- token is known; otherwise it is kept until the token is first presented
-- (admit.lua then gives it the token's expiry).
-- KEYS: 1 revocation, 2 usage hash. ARGV: 1 now (ms).
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
end
return 1
