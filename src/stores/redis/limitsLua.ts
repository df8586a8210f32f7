/**
 * Lua sources of the back-pressure scripts (see `limits.ts`; registered with
 * the others in `lua.ts`, after its prelude, which gives `nowMs`). Both keys
 * of a queue's limiter share the hash tag `{<ns>:q:<taskQueue>}`: one slot.
 * The arithmetic is `core/limits.ts`'s (`refill`, `defaultBurst`,
 * `msUntilToken`), written again in Lua; the conformance suite holds both to it.
 *
 * Limiter hash fields: `rate`, `burst`, `concurrency`, `paused` ('1'), the
 * bucket (`tokens`, fractional, as of `at`, ms by `TIME`) and `seq` (lease
 * counter). Lease zset: member = lease id, score = expiry (ms by `TIME`).
 */

const BUCKET = `
local function burstOf(rate, burst)
  if burst then return burst end
  return math.max(1, math.ceil(rate / 10))
end
-- The bucket refilled to now (a bucket never written is full).
local function refilled(h, now, rate, burst)
  local tokens, at = tonumber(redis.call('HGET', h, 'tokens')), tonumber(redis.call('HGET', h, 'at'))
  if not tokens or not at then return burst, now end
  if now > at then
    tokens = math.min(burst, tokens + (now - at) * rate / 1000)
    at = now
  end
  return tokens, at
end
`

/** `limits`: apply a change to a queue's limits and return them. */
export const LIMITS_LUA = BUCKET + `
--[[ limits: change a queue's limits atomically, and return those in force.
KEYS[1] limiter hash
ARGV[1] rate   ARGV[2] burst   ARGV[3] concurrency: '' keep, '-' clear, else the new value
ARGV[4] paused: '' keep, '1' pause, '0' resume
Returns {0, rate, burst, concurrency, paused} ('' for a limit not set; paused '1' or '0')
]]
local h = KEYS[1]
local names = {'rate', 'burst', 'concurrency'}
for i = 1, 3 do
  if ARGV[i] == '-' then redis.call('HDEL', h, names[i])
  elseif ARGV[i] ~= '' then redis.call('HSET', h, names[i], ARGV[i]) end
end
if ARGV[4] == '1' then redis.call('HSET', h, 'paused', '1') elseif ARGV[4] == '0' then redis.call('HDEL', h, 'paused') end
-- The burst goes with the rate; clearing the rate resets the bucket (full again when set anew).
if not redis.call('HGET', h, 'rate') then redis.call('HDEL', h, 'burst', 'tokens', 'at') end
local f = redis.call('HMGET', h, 'rate', 'burst', 'concurrency', 'paused')
return {0, f[1] or '', f[2] or '', f[3] or '', f[4] or '0'}
`

/** `acquire`: take permits (see `StoreShape.acquirePermits`). */
export const ACQUIRE_LUA = BUCKET + `
--[[ acquire: permits to start up to ARGV[2] tasks.
KEYS[1] limiter hash   KEYS[2] lease zset
ARGV[1] holder (lease ids are '<holder>:<seq>')   ARGV[2] want   ARGV[3] lease ms
ARGV[4] retry ms while paused   ARGV[5] retry ms while every lease is held
Returns {0, granted, limited (0/1), retry after ms, lease ids...}
        {0, want, 0, 0} when the queue has no limits (nothing counted)
]]
local h = KEYS[1]
local f = redis.call('HMGET', h, 'rate', 'burst', 'concurrency', 'paused')
local rate, concurrency = tonumber(f[1]), tonumber(f[3])
local want = tonumber(ARGV[2])
if f[4] == '1' then return {0, 0, 1, tonumber(ARGV[4])} end
if not rate and not concurrency then return {0, want, 0, 0} end
local now = nowMs()
local granted, retry = want, 0
local tokens, at
if rate then
  tokens, at = refilled(h, now, rate, burstOf(rate, tonumber(f[2])))
  granted = math.min(granted, math.floor(tokens))
  if granted <= 0 then retry = math.ceil((1 - tokens) * 1000 / rate) end
end
if concurrency then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  granted = math.min(granted, math.max(0, concurrency - redis.call('ZCARD', KEYS[2])))
  if granted <= 0 and retry == 0 then retry = tonumber(ARGV[5]) end
end
if granted < 0 then granted = 0 end
if rate then redis.call('HSET', h, 'tokens', tostring(tokens - granted), 'at', string.format('%.0f', at)) end
local reply = {0, granted, 1, retry}
if concurrency and granted > 0 then
  local last = redis.call('HINCRBY', h, 'seq', granted)
  local expiry = string.format('%.0f', now + tonumber(ARGV[3]))
  for i = 1, granted do
    local id = ARGV[1] .. ':' .. (last - granted + i)
    redis.call('ZADD', KEYS[2], expiry, id)
    reply[#reply + 1] = id
  end
end
return reply
`

/** `unlease`: give permits back (see `StoreShape.releasePermits`). */
export const UNLEASE_LUA = BUCKET + `
--[[ unlease: delete leases and return unused tokens to the bucket.
KEYS[1] limiter hash   KEYS[2] lease zset
ARGV[1] unused tokens   ARGV[2..] lease ids
Returns {0}
]]
for i = 2, #ARGV do redis.call('ZREM', KEYS[2], ARGV[i]) end
local unused = tonumber(ARGV[1])
if unused > 0 then
  local f = redis.call('HMGET', KEYS[1], 'rate', 'burst')
  local rate = tonumber(f[1])
  if rate then
    local burst = burstOf(rate, tonumber(f[2]))
    local tokens, at = refilled(KEYS[1], nowMs(), rate, burst)
    redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(burst, tokens + unused)), 'at', string.format('%.0f', at))
  end
end
return {0}
`

/** `renew`: extend live leases (see `StoreShape.renewPermits`). */
export const RENEW_LUA = `
--[[ renew: extend the leases still live to ARGV[1] ms from now; an expired one stays expired.
KEYS[1] lease zset
ARGV[1] lease ms   ARGV[2..] lease ids
Returns {0, renewed}
]]
local now = nowMs()
local expiry = string.format('%.0f', now + tonumber(ARGV[1]))
local renewed = 0
for i = 2, #ARGV do
  local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]))
  if score and score > now then
    redis.call('ZADD', KEYS[1], expiry, ARGV[i])
    renewed = renewed + 1
  end
end
return {0, renewed}
`
