/**
 * Lua sources of the Redis store's scripts, one per operation that must be
 * atomic. Each script touches the keys of ONE partition only (one hash tag,
 * hence one Redis Cluster slot); the header of each lists KEYS, ARGV and every
 * return code. `scripts.ts` registers them and maps the codes to typed errors.
 *
 * Stream entries carry fields `k` (routing key) and `b` (body). Outbox entries
 * have the same shape with `k` = the JSON destination `[kind, taskQueue, key]`
 * (built in TypeScript, opaque to Lua). A timer is a member
 * `<16-digit sequence>:<id>` of the timers zset (score = fireAt, so ties fire
 * in insertion order) plus `timerData[id]` = cjson `[member, destination, k, b]`
 * where destination is the target stream key (same partition) or "" for the
 * outbox.
 *
 * Return codes shared by all scripts (see `ReplyCode` in scripts.ts):
 * 0 ok, 1 version conflict, 2 not pending, 3 consumer group missing (NOGROUP).
 */

import { ACQUIRE_LUA, LIMITS_LUA, RENEW_LUA, UNLEASE_LUA } from "./limitsLua.ts"

/** Helpers prepended to every script (and to the `hotmesh` function library, functions.ts). */
export const PRELUDE = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function isPending(stream, group, id)
  local p = redis.pcall('XPENDING', stream, group, id, id, 1)
  if p.err or #p == 0 then return nil end
  return p[1]
end
-- Acknowledge id if it is pending in the group (any consumer): the check and the ack in one
-- command (XACK counts what it removed; 0, or no group: not pending, nothing changed).
local function ackPending(stream, group, id)
  local n = redis.pcall('XACK', stream, group, id)
  return type(n) == 'number' and n == 1
end
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return ''
end
-- The entry's fields as JSON when they are not exactly k and b (an entry written behind the
-- store's back), else '': a dead letter keeps the whole original entry.
local function rawFields(fields)
  if #fields == 4 and ((fields[1] == 'k' and fields[3] == 'b') or (fields[1] == 'b' and fields[3] == 'k')) then return '' end
  return cjson.encode(fields)
end
local function removeTimer(timers, data, id)
  local raw = redis.call('HGET', data, id)
  if raw then
    redis.call('ZREM', timers, cjson.decode(raw)[1])
    redis.call('HDEL', data, id)
  end
end
`

/** The claim of "append and claim" (`Claim` in Store.ts), for the scripts that append work: commit and complete. */
const CLAIM = `
-- Read up to count new entries of stream for consumer, appending (id, key, body) of each to out.
local function claimNew(stream, group, consumer, count, out)
  local got = redis.pcall('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
  if type(got) ~= 'table' or got.err or not got[1] then return end
  for _, e in ipairs(got[1][2]) do
    table.insert(out, e[1]); table.insert(out, field(e[2], 'k')); table.insert(out, field(e[2], 'b'))
  end
end
`

const COMMIT = `
--[[ commit: one durable step, all or nothing.
KEYS[1] execution hash         KEYS[2] journal list (KEYS[1] when no journal)
KEYS[3] timers zset            KEYS[4] timer data hash
KEYS[5] timer sequence string  KEYS[6] outbox stream
KEYS[7] stream of the acknowledged message (KEYS[1] when no ack)
KEYS[8 .. 7+L]      target streams of the L local messages, in order
KEYS[8+L .. 7+L+R]  keys of the R replies, in order
KEYS[8+L+R]         the stream to claim from (only with ARGV[23] > 0)
then the index:     IR zsets the key leaves, IA zsets it joins (or is re-scored in), IK zsets it stays in
                    (absent without index writes), then, with ARGV[25] ~= '', the index expiry buckets zset,
                    the list of the bucket ending at ARGV[26] and that bucket's term sets hash
ARGV[1] expected version     ARGV[2] '1': ARGV[3] is the new state; '0': keep state, version and token
ARGV[3] new state            ARGV[4] consumer group
ARGV[5] acknowledged entry id, '' for none
ARGV[6] pub/sub channel, '' for no notification    ARGV[7] execution key (published as '<version>:<key>';
        the record's 'nv' field keeps the version of its last notifying commit)
ARGV[8] reply time-to-live ms
ARGV[9] J journal entries  ARGV[10] L local messages  ARGV[11] O outbox messages
ARGV[12] T timers          ARGV[13] C cancelled ids   ARGV[14] R replies
ARGV[15] retention: epoch ms at which KEYS[2] expires, '' for none
ARGV[16] '1': the record (KEYS[1]) expires at ARGV[15] too; '0': a state write clears its expiry
ARGV[17] expected token ('' for a record never written, or written without a token)
ARGV[18] new token (with ARGV[2] = '1')
ARGV[19] journal index of the first entry, '' when KEYS[2] is not a journal:
         a longer journal is cut to that many entries before the J entries are appended
ARGV[20] IR index zsets to leave   ARGV[21] IA index zsets to join   ARGV[22] IK index zsets to stay in
ARGV[23] claim: after the writes, read up to this many new entries of the claim stream for
         consumer ARGV[24] (XREADGROUP ... >), 0 for none; a missing group claims nothing
ARGV[24] claiming consumer ('' without a claim)
ARGV[25] the record's expiring index entry ('' for none: only with ARGV[16] = '1', ARGV[15] and index writes):
         '<sep><key><sep><term>...' (encode.ts), appended to the bucket list; the bucket (member ARGV[26])
         is due by ARGV[15] at the latest (ZADD LT), when fire sweeps the key from those terms' zsets
         once its record has expired (a record written again since is not swept). Records of one bucket
         mostly share their terms: after the bucket's first entry, the terms ('<sep><term>...') go once
         into the term sets hash under the first 6 hex digits of their SHA-1, and the entry is
         '<sep><key><sep><sep><id>' (kept as it is when that id holds other terms)
ARGV[26] the bucket's end, epoch ms ('' without ARGV[25])
ARGV[27] '1': the notification also carries the record written (ARGV[2] = '1'), published first as
         '#' .. cjson [version, key, token] .. '\\n' .. state (notifier.ts); '0': only '<version>:<key>'
ARGV[28 ..] J x entry; L x (key, body); O x (destination, body);
            T x (id, fireAt, target stream key or '' for the outbox, k, b); C x id; R x body; IA x score
Returns {0, version, id, key, body, id, ...} committed (version after the commit), then the claimed entries
        {1, version} the record is not at (ARGV[1], ARGV[17]): nothing written
        {2, version} ARGV[5] is not pending in KEYS[7]: nothing written
]]
local record = redis.call('HMGET', KEYS[1], 'version', 'token')
local version = tonumber(record[1] or '0')
-- Version and token: after a rollback (older snapshot, lost fsync, async replica) a version
-- comes round again with other contents; the token of the write that produced it does not.
if version ~= tonumber(ARGV[1]) or (record[2] or '') ~= ARGV[17] then return {1, version} end
-- The ack is the last check: from here on nothing can fail on well-formed input.
if ARGV[5] ~= '' and not ackPending(KEYS[7], ARGV[4], ARGV[5]) then return {2, version} end
local J, L, O = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local T, C, R = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local IR, IA, IK = tonumber(ARGV[20]), tonumber(ARGV[21]), tonumber(ARGV[22])
local claim = tonumber(ARGV[23])
local a = 28
local ix = 8 + L + R
if claim > 0 then ix = ix + 1 end
if ARGV[2] == '1' then
  version = version + 1
  redis.call('HSET', KEYS[1], 'state', ARGV[3], 'version', version, 'token', ARGV[18])
  -- A written record no longer expires, so neither do its index entries: fire finds it there and sweeps nothing.
  if ARGV[16] ~= '1' then redis.call('PERSIST', KEYS[1]) end
end
if ARGV[19] ~= '' then
  local from = tonumber(ARGV[19])
  if redis.call('LLEN', KEYS[2]) > from then
    if from > 0 then redis.call('LTRIM', KEYS[2], 0, from - 1) else redis.call('DEL', KEYS[2]) end
  end
end
for _ = 1, J do
  redis.call('RPUSH', KEYS[2], ARGV[a]); a = a + 1
end
if ARGV[15] ~= '' then
  redis.call('PEXPIREAT', KEYS[2], ARGV[15])
  if ARGV[16] == '1' then redis.call('PEXPIREAT', KEYS[1], ARGV[15]) end
end
for i = 1, L do
  redis.call('XADD', KEYS[7 + i], '*', 'k', ARGV[a], 'b', ARGV[a + 1]); a = a + 2
end
for _ = 1, O do
  redis.call('XADD', KEYS[6], '*', 'k', ARGV[a], 'b', ARGV[a + 1]); a = a + 2
end
local timerArgs = a
a = a + 5 * T
-- Cancellations apply before new timers: cancelling and setting one id re-arms it.
for _ = 1, C do
  removeTimer(KEYS[3], KEYS[4], ARGV[a]); a = a + 1
end
for _ = 1, T do
  local b = timerArgs
  removeTimer(KEYS[3], KEYS[4], ARGV[b])
  local member = string.format('%016d', redis.call('INCR', KEYS[5])) .. ':' .. ARGV[b]
  redis.call('ZADD', KEYS[3], ARGV[b + 1], member)
  redis.call('HSET', KEYS[4], ARGV[b], cjson.encode({member, ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]}))
  timerArgs = timerArgs + 5
end
for i = 1, R do
  local key = KEYS[7 + L + i]
  redis.call('DEL', key)
  redis.call('RPUSH', key, ARGV[a])
  redis.call('PEXPIRE', key, ARGV[8])
  a = a + 1
end
for i = 0, IR - 1 do
  redis.call('ZREM', KEYS[ix + i], ARGV[7])
end
for i = 0, IA - 1 do
  redis.call('ZADD', KEYS[ix + IR + i], ARGV[a], ARGV[7]); a = a + 1
end
if ARGV[25] ~= '' then
  local list, sets = KEYS[ix + IR + IA + IK + 1], KEYS[ix + IR + IA + IK + 2]
  local entry = ARGV[25]
  local sep = string.sub(entry, 1, 1)
  local cut = string.find(entry, sep, 2, true)
  if cut and redis.call('EXISTS', list) == 1 then
    local terms = string.sub(entry, cut)
    local id = string.sub(redis.sha1hex(terms), 1, 6)
    if #terms > #id + 1 and (redis.call('HSETNX', sets, id, terms) == 1 or redis.call('HGET', sets, id) == terms) then
      entry = string.sub(entry, 1, cut) .. sep .. id
    end
  end
  redis.call('RPUSH', list, entry)
  redis.call('ZADD', KEYS[ix + IR + IA + IK], 'LT', ARGV[15], ARGV[26])
end
if ARGV[5] ~= '' then redis.call('XDEL', KEYS[7], ARGV[5]) end
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'nv', version)
  if ARGV[27] == '1' and ARGV[2] == '1' then
    redis.call('PUBLISH', ARGV[6], '#' .. cjson.encode({version, ARGV[7], ARGV[18]}) .. '\\n' .. ARGV[3])
  end
  -- Also in the earlier form, for clients of versions before the record-carrying one.
  redis.call('PUBLISH', ARGV[6], version .. ':' .. ARGV[7])
end
local out = {0, version}
if claim > 0 then claimNew(KEYS[8 + L + R], ARGV[4], ARGV[24], claim, out) end
return out
`

const COMPLETE = `
--[[ complete: acknowledge a message and append messages, atomically.
KEYS[1] stream of the acknowledged message   KEYS[2] outbox stream
KEYS[3 .. 2+L] target streams of the L local messages, in order
KEYS[3+L]      the stream to claim from (only with ARGV[5] > 0)
ARGV[1] consumer group   ARGV[2] acknowledged entry id
ARGV[3] L local messages ARGV[4] O outbox messages
ARGV[5] claim: after the writes, read up to this many new entries of the claim stream for
        consumer ARGV[6] (XREADGROUP ... >), 0 for none; a missing group claims nothing
ARGV[6] claiming consumer ('' without a claim)
ARGV[7 ..] L x (key, body); O x (destination, body)
Returns {0, id, key, body, id, ...} done, then the claimed entries
        {2} ARGV[2] is not pending: nothing written
]]
if not ackPending(KEYS[1], ARGV[1], ARGV[2]) then return {2} end
local L, O = tonumber(ARGV[3]), tonumber(ARGV[4])
local a = 7
for i = 1, L do
  redis.call('XADD', KEYS[2 + i], '*', 'k', ARGV[a], 'b', ARGV[a + 1]); a = a + 2
end
for _ = 1, O do
  redis.call('XADD', KEYS[2], '*', 'k', ARGV[a], 'b', ARGV[a + 1]); a = a + 2
end
redis.call('XDEL', KEYS[1], ARGV[2])
local out = {0}
local claim = tonumber(ARGV[5])
if claim > 0 then claimNew(KEYS[3 + L], ARGV[1], ARGV[6], claim, out) end
return out
`

const APPEND = `
--[[ append: add messages to streams of one partition, atomically.
KEYS[1 .. N] target stream of each message, in order
ARGV[1 .. 2N] N x (key, body)
Returns {0}
]]
for i = 1, #KEYS do
  redis.call('XADD', KEYS[i], '*', 'k', ARGV[2 * i - 1], 'b', ARGV[2 * i])
end
return {0}
`

const READ = `
--[[ read: reclaim stalled messages, then read new ones, from one partition's stream.
KEYS[1] stream   KEYS[2] dead-letter stream
ARGV[1] consumer group   ARGV[2] consumer   ARGV[3] count (> 0)
ARGV[4] visibility timeout ms (min idle time to reclaim)
ARGV[5] max deliveries, 0 for no limit   ARGV[6] XAUTOCLAIM start cursor
Reclaimed messages whose delivery count would exceed ARGV[5] are moved to
KEYS[2] (fields id, k, b, n = deliveries so far, r = reason, at, e = the entry's
fields as JSON if they are not exactly k and b, else '') and acknowledged.
Returns {0, next cursor, dead-lettered count, id, deliveries, key, body, id, ...}
        {3} the stream or its group is missing (NOGROUP): nothing done
]]
local group, consumer, count, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5])
local out = {0, '0-0', 0}
local got = 0
-- Scan from the cursor; if that reaches the end before filling the quota, wrap around once
-- from 0-0, so a message released behind the cursor is found by this read, not a later one.
local cursor = ARGV[6]
for pass = 1, 2 do
  local claimed = redis.pcall('XAUTOCLAIM', KEYS[1], group, consumer, ARGV[4], cursor, 'COUNT', count - got)
  if claimed.err then
    if string.find(claimed.err, 'NOGROUP', 1, true) then return {3} end
    return redis.error_reply(claimed.err)
  end
  out[2] = claimed[1]
  for _, e in ipairs(claimed[2]) do
    local id, fields = e[1], e[2]
    if fields then
      local p = isPending(KEYS[1], group, id)
      local n = p and p[4] or 1
      if max > 0 and n > max then
        redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'id', id, 'k', field(fields, 'k'), 'b', field(fields, 'b'),
          'n', n - 1, 'r', 'delivered ' .. (n - 1) .. ' times without acknowledgement (maxDeliveries ' .. max .. ')',
          'at', string.format('%.0f', nowMs()), 'e', rawFields(fields))
        redis.call('XACK', KEYS[1], group, id)
        redis.call('XDEL', KEYS[1], id)
        out[3] = out[3] + 1
      else
        table.insert(out, id); table.insert(out, n)
        table.insert(out, field(fields, 'k')); table.insert(out, field(fields, 'b'))
        got = got + 1
      end
    end
  end
  if got >= count or cursor == '0-0' or claimed[1] ~= '0-0' then break end
  cursor = '0-0'
end
if got < count then
  local fresh = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count - got, 'STREAMS', KEYS[1], '>')
  if fresh then
    for _, e in ipairs(fresh[1][2]) do
      table.insert(out, e[1]); table.insert(out, 1)
      table.insert(out, field(e[2], 'k')); table.insert(out, field(e[2], 'b'))
    end
  end
end
return out
`

const READ_LANES = `
--[[ readLanes: read one partition's lanes of an activity stream, sharing the quota between them
in turn (fair sharing): each lane still to be asked gets an equal share of what is left, starting at
lane ARGV[6], and the lanes that filled their share are asked again with what is left after that;
within a lane, exactly the read script (reclaim stalled messages first, then new ones). The next
read starts after the last lane that gave something (the lanes take turns across reads too).
KEYS[2l+1] stream of lane l   KEYS[2l+2] its dead-letter stream   (l = 0 .. L-1)
ARGV[1] consumer group   ARGV[2] consumer   ARGV[3] count (> 0)
ARGV[4] visibility timeout ms   ARGV[5] max deliveries, 0 for no limit
ARGV[6] first lane (0 .. L-1)   ARGV[7 .. 6+L] XAUTOCLAIM start cursor of each lane
A lane whose group is missing gets it (created at 0, MKSTREAM); an empty lane (XLEN 0) is skipped.
Returns {0, dead-lettered count, lane the next read starts at, next cursor of each lane (L),
         lane, id, deliveries, key, body, lane, ...}
]]
local lanes = #KEYS / 2
local count = tonumber(ARGV[3])
local out = {0, 0, tonumber(ARGV[6])}
for l = 1, lanes do out[3 + l] = ARGV[6 + l] end
local asked = {}
for i = 0, lanes - 1 do asked[#asked + 1] = (tonumber(ARGV[6]) + i) % lanes end
local got = 0
while got < count and #asked > 0 do
  local share = math.ceil((count - got) / #asked)
  local full = {}
  for _, l in ipairs(asked) do
    local want = math.min(share, count - got)
    if want <= 0 then break end
    local keys = {KEYS[2 * l + 1], KEYS[2 * l + 2]}
    local n = 0
    -- An empty lane (acknowledged entries are deleted: nothing new, nothing pending) costs one XLEN.
    if redis.call('XLEN', keys[1]) > 0 then
      local argv = {ARGV[1], ARGV[2], want, ARGV[4], ARGV[5], out[4 + l]}
      local r = readLane(keys, argv)
      if r[1] == 3 then
        redis.call('XGROUP', 'CREATE', keys[1], ARGV[1], '0', 'MKSTREAM')
        r = readLane(keys, argv)
      end
      if r.err then return r end
      out[4 + l] = r[2]
      out[2] = out[2] + r[3]
      for i = 4, #r, 4 do
        table.insert(out, l); table.insert(out, r[i]); table.insert(out, r[i + 1])
        table.insert(out, r[i + 2]); table.insert(out, r[i + 3])
        n = n + 1
      end
    end
    got = got + n
    if n > 0 then out[3] = (l + 1) % lanes end
    if n >= want then full[#full + 1] = l end
  end
  asked = full
end
return out
`

const RELEASE = `
--[[ release: make pending messages immediately re-deliverable (next read's XAUTOCLAIM).
They are claimed by the sentinel consumer ARGV[2] with an idle time of "since
the epoch", so any reclaim picks them up first.
KEYS[1] stream
ARGV[1] consumer group   ARGV[2] sentinel consumer
ARGV[3 ..] N x (entry id, expected delivery count, new delivery count or -1 to keep)
An entry is released only while pending with the expected delivery count (a
zombie consumer cannot release a message someone else has reclaimed).
Returns {0, released count}
]]
local released = 0
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  local p = isPending(KEYS[1], ARGV[1], id)
  if p and tonumber(p[4]) == tonumber(ARGV[i + 1]) then
    if ARGV[i + 2] == '-1' then
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'TIME', 0, 'JUSTID')
    else
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'TIME', 0, 'RETRYCOUNT', ARGV[i + 2], 'JUSTID')
    end
    released = released + 1
  end
end
return {0, released}
`

const TOUCH = `
--[[ touch: reset the idle time of a pending message, keeping its owner (heartbeat).
KEYS[1] stream
ARGV[1] consumer group   ARGV[2] entry id   ARGV[3] expected delivery count   ARGV[4] the released-messages consumer
Returns {0, 1} touched
        {0, 0} not pending, pending with another delivery count (reclaimed), or released: nothing done
]]
local p = isPending(KEYS[1], ARGV[1], ARGV[2])
if not p or tonumber(p[4]) ~= tonumber(ARGV[3]) or p[2] == ARGV[4] then return {0, 0} end
redis.call('XCLAIM', KEYS[1], ARGV[1], p[2], 0, ARGV[2], 'JUSTID')
return {0, 1}
`

const FIRE = `
--[[ fire: pop at most ARGV[1] due timers of one partition, in (fireAt, insertion) order,
and append their messages, atomically. "Due" is fireAt <= Redis TIME in ms.
A message for this partition (a workflow's own timers: sleeps, retries,
timeouts) goes straight to its target stream (key recorded at commit time:
same hash tag, so same slot) and is readable as soon as the script returns;
any other goes to the outbox, for the relay.
Also sweeps the visibility index (at most 100 records per call): a record that expired (retention)
leaves the index zsets its closing commit listed. Buckets (KEYS[6]: member = bucket end, score = when
to look) due by TIME are swept from the head of their lists (ARGV[4] .. member) while the head's record
is gone (its key leaves the zsets ARGV[3] .. term) or written again since (no expiry, or its bucket has
ended: nothing to sweep); a head whose record expires later is looked at again then. Entries of the
format before the buckets (KEYS[4] key -> expiry, KEYS[5] key -> JSON list of zset names) are swept by
their expiry, as they always were.
KEYS[1] timers zset   KEYS[2] timer data hash   KEYS[3] outbox stream
KEYS[4] index expiry zset (old format)   KEYS[5] expiring-index hash (old format)
KEYS[6] index expiry buckets zset
ARGV[1] limit (0: only report)   ARGV[2] execution key prefix of the partition
ARGV[3] index zset key prefix of the partition   ARGV[4] expiry bucket list key prefix of the partition
ARGV[5] expiry bucket term sets key prefix of the partition (an entry '<sep><key><sep><sep><id>' has the
        terms ARGV[5] .. bucket [id]; the hash goes with the bucket's list)
Returns {0, fired count, due timers left (fireAt <= now, beyond the limit)}
]]
local now = string.format('%.0f', nowMs())
local sweep = 100
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, sweep)) do
  if redis.call('EXISTS', ARGV[2] .. key) == 0 then
    local raw = redis.call('HGET', KEYS[5], key)
    if raw then
      for _, zset in ipairs(cjson.decode(raw)) do redis.call('ZREM', zset, key) end
    end
  end
  redis.call('HDEL', KEYS[5], key)
  redis.call('ZREM', KEYS[4], key)
  sweep = sweep - 1
end
local function split(text, sep, from)
  local parts = {}
  while true do
    local stop = string.find(text, sep, from, true)
    if not stop then parts[#parts + 1] = string.sub(text, from); return parts end
    parts[#parts + 1] = string.sub(text, from, stop - 1)
    from = stop + 1
  end
end
if sweep > 0 then
  for _, bucket in ipairs(redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 10)) do
    local list = ARGV[4] .. bucket
    local ended = tonumber(now) >= tonumber(bucket)
    local again = nil
    while sweep > 0 do
      local entry = redis.call('LINDEX', list, 0)
      if not entry then break end
      -- '<sep><key><sep><term>...', or '<sep><key><sep><sep><id>' (the terms in the bucket's term sets)
      local parts = split(entry, string.sub(entry, 1, 1), 2)
      local ttl = redis.call('PTTL', ARGV[2] .. parts[1])
      if ttl == -2 then
        local terms, from = parts, 2
        if #parts == 3 and parts[2] == '' then
          local text = redis.call('HGET', ARGV[5] .. bucket, parts[3])
          terms = text and split(text, string.sub(text, 1, 1), 2) or {}
          from = 1
        end
        for i = from, #terms do redis.call('ZREM', ARGV[3] .. terms[i], parts[1]) end
      elseif ttl >= 0 and not ended then
        again = math.min(tonumber(now) + ttl, tonumber(bucket))
        break
      end
      redis.call('LPOP', list)
      sweep = sweep - 1
    end
    if again then
      redis.call('ZADD', KEYS[6], 'XX', string.format('%.0f', again), bucket)
    elseif redis.call('EXISTS', list) == 0 then
      redis.call('ZREM', KEYS[6], bucket)
      redis.call('DEL', ARGV[5] .. bucket)
    end
    if sweep <= 0 then break end
  end
end
local members = {}
if tonumber(ARGV[1]) > 0 then
  members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[1])
end
for _, member in ipairs(members) do
  local id = string.sub(member, 18)
  local raw = redis.call('HGET', KEYS[2], id)
  if raw then
    local m = cjson.decode(raw)
    local destination = m[2] ~= '' and m[2] or KEYS[3]
    redis.call('XADD', destination, '*', 'k', m[3], 'b', m[4])
    redis.call('HDEL', KEYS[2], id)
  end
  redis.call('ZREM', KEYS[1], member)
end
local left = 0
if #members >= tonumber(ARGV[1]) then left = redis.call('ZCOUNT', KEYS[1], '-inf', now) end
return {0, #members, left}
`

const RELAY = `
--[[ relay: deliver outbox entries into their target partition, at most once per entry
while its dedupe mark lives (ARGV[1] ms).
KEYS[1] relay dedupe zset   KEYS[2 .. 1+N] target stream of each entry
ARGV[1] dedupe window ms
ARGV[2 ..] N x (dedupe id '<source partition>/<entry id>', key, body)
Returns {0, delivered count (duplicates excluded)}
]]
local now = nowMs()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - tonumber(ARGV[1])))
local delivered = 0
for i = 1, #KEYS - 1 do
  local a = 2 + (i - 1) * 3
  if redis.call('ZADD', KEYS[1], 'NX', string.format('%.0f', now), ARGV[a]) == 1 then
    redis.call('XADD', KEYS[1 + i], '*', 'k', ARGV[a + 1], 'b', ARGV[a + 2])
    delivered = delivered + 1
  end
end
return {0, delivered}
`

const ACK = `
--[[ ack: acknowledge and delete stream entries (the relay's outbox entries).
KEYS[1] stream
ARGV[1] consumer group   ARGV[2 ..] entry ids
Returns {0, acknowledged count}
]]
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
return {0, acked}
`

const DEAD = `
--[[ dead: move a pending message to the dead-letter stream and acknowledge it, atomically
(a reader found it can never be decoded).
KEYS[1] stream   KEYS[2] dead-letter stream
ARGV[1] consumer group   ARGV[2] entry id   ARGV[3] reason
The dead letter has the fields of read's: id, k, b, n = deliveries so far, r = reason, at (TIME, ms),
e = the entry's fields as JSON if they are not exactly k and b, else ''.
Returns {0, 1} dead-lettered
        {0, 0} ARGV[2] is not pending (acknowledged, or dead-lettered already): nothing done
]]
local p = isPending(KEYS[1], ARGV[1], ARGV[2])
if not p then return {0, 0} end
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
local fields = entry[1] and entry[1][2] or {}
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'id', ARGV[2], 'k', field(fields, 'k'), 'b', field(fields, 'b'),
  'n', p[4], 'r', ARGV[3], 'at', string.format('%.0f', nowMs()), 'e', rawFields(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return {0, 1}
`

const REDELIVER = `
--[[ redeliver: append a dead letter's message (k, b) to its stream as a new entry and delete
the dead letter, atomically (an operator's retry).
KEYS[1] dead-letter stream   KEYS[2] stream (same partition)
ARGV[1] dead-letter entry id
Returns {0, 1} re-appended
        {0, 0} no such dead letter: nothing done
]]
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry == 0 then return {0, 0} end
local fields = entry[1][2]
redis.call('XADD', KEYS[2], '*', 'k', field(fields, 'k'), 'b', field(fields, 'b'))
redis.call('XDEL', KEYS[1], ARGV[1])
return {0, 1}
`

/**
 * Script bodies the `hotmesh` Redis Functions library (functions.ts) wraps as
 * functions of `(KEYS, ARGV)`: one Lua source for EVALSHA and FCALL.
 */
export const SCRIPT_BODIES = { read: READ, touch: TOUCH, release: RELEASE } as const

/** Script sources by name. Every script is the prelude plus its body. */
export const LUA = {
  commit: PRELUDE + CLAIM + COMMIT,
  complete: PRELUDE + CLAIM + COMPLETE,
  append: PRELUDE + APPEND,
  read: PRELUDE + READ,
  readLanes: PRELUDE + `local function readLane(KEYS, ARGV)\n${READ}\nend\n` + READ_LANES,
  release: PRELUDE + RELEASE,
  touch: PRELUDE + TOUCH,
  fire: PRELUDE + FIRE,
  relay: PRELUDE + RELAY,
  ack: PRELUDE + ACK,
  dead: PRELUDE + DEAD,
  redeliver: PRELUDE + REDELIVER,
  limits: PRELUDE + LIMITS_LUA,
  acquire: PRELUDE + ACQUIRE_LUA,
  unlease: PRELUDE + UNLEASE_LUA,
  renew: PRELUDE + RENEW_LUA,
} as const

/** The name of one of the store's scripts. */
export type ScriptName = keyof typeof LUA
