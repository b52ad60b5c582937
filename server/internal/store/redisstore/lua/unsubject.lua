-- Give back a subject call taken for an admission the token then refused.
-- KEYS: 1 window counter. A window that already expired stays gone.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('DECR', KEYS[1])
end
return 0
