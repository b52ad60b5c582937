-- Admit one call of a token in one atomic step: sweep lapsed leases
-- (lapse.lua), then store.Decide (internal/store/decide.go) line by line,
-- then record the grant. Keep this file in step with Decide: the contract suite checks it.
--
-- KEYS: 1 usage hash, 2 lease expiry zset, 3 lease reservation hash,
--       4 revocation
-- ARGV: 1 now (ms), 2 max_calls, 3 rpm, 4 concurrency, 5 token_budget,
--       6 prompt estimate, 7 requested max_tokens, 8 subject full (0/1),
--       9 lease id, 10 lease expiry (ms), 11 subject, 12 exp (s),
--       13 key expiry (ms)
-- Reply: decision (store.Decision), calls, retry (ms), rpm reset (ms),
--        rpm remaining, reserved, completion cap, budget remaining,
--        indexed (0/1)
local usage, leases, reserved, revoked = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
local max_calls, rpm = tonumber(ARGV[2]), tonumber(ARGV[3])
local concurrency, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local prompt_estimate, requested = tonumber(ARGV[6]), tonumber(ARGV[7])
local key_expiry = ARGV[13]
local MINUTE = 60000
local ADMITTED, REVOKED, CALLS, RATE, CONCURRENCY, BUDGET, SUBJECT = 0, 1, 2, 3, 4, 5, 6

local function reply(decision, calls, retry, reset, remaining, res, cap, left, indexed)
  return {decision, calls or 0, retry or 0, reset or 0, remaining or 0,
    res or 0, cap or 0, left or 0, indexed or 0}
end

lapse(usage, leases, reserved, now) -- lapse.lua

if redis.call('EXISTS', revoked) == 1 then
  -- A revocation of a token not yet seen has no expiry; now exp is known,
  -- it can go with the token (which is dead by then anyway).
  if redis.call('PTTL', revoked) == -1 then
    redis.call('PEXPIREAT', revoked, key_expiry)
  end
  return reply(REVOKED)
end
local st = redis.call('HMGET', usage, 'calls', 'rpm_tat', 'prompt', 'completion', 'ix')
local calls, tat0 = tonumber(st[1]) or 0, tonumber(st[2]) or 0
if max_calls > 0 and calls >= max_calls then
  return reply(CALLS, calls)
end
if ARGV[8] == '1' then
  return reply(SUBJECT) -- the caller computes RetryAfter from the window
end

local new_tat, remaining, reset = tat0, 0, 0
if rpm > 0 then
  local interval = math.floor(MINUTE / rpm)
  local tat = math.max(tat0, now)
  local nxt = tat + interval
  if nxt - now > MINUTE then
    return reply(RATE, 0, nxt - now - MINUTE, tat - now)
  end
  new_tat, reset = nxt, nxt - now
  -- Decide divides by interval; above 60000 rpm it is 0 (no spacing), so
  -- report the whole allowance instead of dividing by zero.
  remaining = rpm
  if interval > 0 then
    remaining = math.floor((MINUTE - (nxt - now)) / interval)
  end
end

local active, held = 0, 0
if concurrency > 0 or budget > 0 then
  active = redis.call('ZCARD', leases)
  for _, v in ipairs(redis.call('HVALS', reserved)) do
    held = held + tonumber(v)
  end
end
if concurrency > 0 and active >= concurrency then
  return reply(CONCURRENCY, 0, 1000)
end

local res, cap, left = 0, 0, 0
if budget > 0 then
  local rest = budget - ((tonumber(st[3]) or 0) + (tonumber(st[4]) or 0)) - held
  local prompt = math.max(prompt_estimate, 1)
  if rest <= prompt then
    -- On a refusal the reservation slot carries what calls in flight hold
    -- of a budget that would otherwise fit (Decide's BudgetHeld).
    local spent = (tonumber(st[3]) or 0) + (tonumber(st[4]) or 0)
    local held_back = 0
    if budget - spent > prompt then
      held_back = held
    end
    return reply(BUDGET, 0, 0, 0, 0, held_back, 0, math.max(rest, 0))
  end
  cap = rest - prompt
  if requested > 0 then
    cap = math.min(cap, requested)
  end
  res, left = prompt + cap, rest - prompt - cap
end

if redis.call('EXISTS', usage) == 0 then
  redis.call('HSET', usage, 'first', now, 'subject', ARGV[11], 'exp', ARGV[12],
    'prompt', 0, 'completion', 0)
end
calls = redis.call('HINCRBY', usage, 'calls', 1)
redis.call('HSET', usage, 'last', now, 'rpm_tat', new_tat, 'max_calls', max_calls, 'budget', budget)
redis.call('PEXPIREAT', usage, key_expiry)
if concurrency > 0 or budget > 0 then
  redis.call('ZADD', leases, ARGV[10], ARGV[9])
  redis.call('HSET', reserved, ARGV[9], res)
  redis.call('PEXPIREAT', leases, key_expiry)
  redis.call('PEXPIREAT', reserved, key_expiry)
end
local indexed = 0
if st[5] then
  indexed = 1
end
return reply(ADMITTED, calls, 0, reset, remaining, res, cap, left, indexed)
