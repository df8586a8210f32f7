/**
 * The `hotmesh` Redis Functions library (Redis >= 7): the activity side of
 * the wire protocol (docs/protocol.md), installed in Redis itself so a worker
 * in any language serves activities with `FCALL`, holding no copy of the Lua.
 *
 * One Lua source: the library is generated from the same prelude and script
 * bodies the Node store runs with EVALSHA (lua.ts) — claim is the `read`
 * script, touch is `touch`, release is `release` — plus the functions that
 * build the internal workflow messages (`ActivityCompleted`, `ActivityFailed`,
 * `ActivityHeartbeat`) from simple arguments, so the protocol stays put when
 * internal message formats change. The Node worker keeps EVALSHA: it then
 * runs on Redis 6.2 as before, needs no load step before its first call, and
 * goes through the generic `Store.complete` (the protocol functions are
 * activity-specific conveniences over the same commands).
 *
 * Back-pressure (protocol 2): `hotmesh_acquire`, `hotmesh_unlease` and
 * `hotmesh_renew` are the Node store's `acquire`, `unlease` and `renew`
 * scripts (limitsLua.ts), so a foreign worker honours a queue's rate,
 * concurrency and pause exactly as a Node worker does. They are separate
 * calls, not folded into `hotmesh_claim`: a queue's limiter lives under its
 * own hash tag (`{<ns>:q:<taskQueue>}`), a different Cluster slot from any
 * partition's stream, and a function touches one slot.
 *
 * Lanes (protocol 3): an activity stream of a namespace with `lanes` > 1 in
 * `{<ns>}:config` is one stream per lane and partition, lane 0 named as
 * before and lane `l` `<tag_N>:s:activity#<l>:<taskQueue>`; every function
 * takes either, and a lane's dead letters are its own (`:d:activity#<l>:`).
 *
 * Every function takes exactly one key, an activity stream of one partition
 * (`<tag_N>:s:activity:<taskQueue>`, or a lane of it; the tags listed in `{<ns>}:config`), and touches only keys with the same
 * hash tag (its dead letters, the workflow stream and execution record of
 * that partition): one slot, so the library runs unchanged on Redis Cluster
 * once loaded on every master (`loadFunctions` takes one node's client).
 *
 * Versioning: `PROTOCOL_VERSION` is the wire format a foreign worker codes
 * against; `LIBRARY_VERSION` is bumped on any change of the library source.
 * Loading replaces a library only when the loaded one is older, and leaves a
 * newer one alone.
 */
import { Effect } from "effect"
import type { Redis } from "ioredis"
import { CONCURRENCY_RETRY_MS, PAUSED_RETRY_MS } from "../../core/limits.ts"
import type { StoreError } from "../Store.ts"
import { RELEASED_CONSUMER } from "./groupReader.ts"
import { STREAM_GROUP } from "./keys.ts"
import { ACQUIRE_LUA, RENEW_LUA, UNLEASE_LUA } from "./limitsLua.ts"
import { PRELUDE, SCRIPT_BODIES } from "./lua.ts"
import { attempt } from "./scripts.ts"

/** The activity protocol's version (docs/protocol.md). */
export const PROTOCOL_VERSION = 3
/** The library's version: bumped whenever `LIBRARY_SOURCE` changes. */
export const LIBRARY_VERSION = 3
/** The library's name in `FUNCTION LIST`. */
export const LIBRARY_NAME = "hotmesh"

const wrap = (name: string, body: string) => `local function body_${name}(KEYS, ARGV)\n${body}\nend\n`

const PROTOCOL = `
local PAUSED_RETRY_MS = ${PAUSED_RETRY_MS}
local CONCURRENCY_RETRY_MS = ${CONCURRENCY_RETRY_MS}
local PROTOCOL_VERSION = ${PROTOCOL_VERSION}
local LIBRARY_VERSION = ${LIBRARY_VERSION}
local GROUP = '${STREAM_GROUP}'
local RELEASED = '${RELEASED_CONSUMER}'
local function str(value) return cjson.encode(value) end

local function bad(name, message)
  error(redis.error_reply('HOTMESH ' .. name .. ': ' .. message))
end
local function num(n) return string.format('%.17g', n) end
local function isJson(text)
  local ok = pcall(cjson.decode, text)
  return ok
end
-- JSON object text from an ordered list of {name, JSON text} (cjson cannot tell [] from {}).
local function object(fields)
  local out = {}
  for i, f in ipairs(fields) do out[i] = str(f[1]) .. ':' .. f[2] end
  return '{' .. table.concat(out, ',') .. '}'
end

-- The one key every function takes: an activity stream (lane 0), or lane l of one. Returns it and its hash tag.
local function activityStream(name, keys)
  local key = keys[1]
  local tag = type(key) == 'string' and (string.match(key, '^({[^{}]+}):s:activity:.') or string.match(key, '^({[^{}]+}):s:activity#[1-9]%d*:.')) or nil
  if #keys ~= 1 or not tag then
    bad(name, 'takes one key, an activity stream <partition tag>:s:activity:<taskQueue> (or a lane, :s:activity#<lane>:<taskQueue>); got ' .. tostring(key))
  end
  return key, tag
end
local function entryId(name, id)
  if type(id) ~= 'string' or not string.match(id, '^%d+%-%d+$') then bad(name, 'ARGV[1] must be a stream entry id, got ' .. tostring(id)) end
  return id
end
local function count(name, what, value)
  local n = tonumber(value)
  if not n or n < 0 or n ~= math.floor(n) then bad(name, what .. ' must be a non-negative integer, got ' .. tostring(value)) end
  return n
end
local function payload(name, what, text)
  if text == nil or text == '' then return nil end
  if not isJson(text) then bad(name, what .. ' must be JSON text (or empty for no value), got ' .. string.sub(text, 1, 100)) end
  return text
end

-- The internal activity task of a stream entry body, or nil and why.
local function decodeTask(body)
  local ok, t = pcall(cjson.decode, body)
  if not ok or type(t) ~= 'table' then return nil, 'the body is not JSON' end
  if type(t.workflowId) ~= 'string' or type(t.runId) ~= 'string' or type(t.workflowType) ~= 'string'
    or type(t.workflowTaskQueue) ~= 'string' or type(t.activityType) ~= 'string'
    or type(t.seq) ~= 'number' or type(t.attempt) ~= 'number' or type(t.args) ~= 'table' then
    return nil, 'the body is not an activity task'
  end
  for _, arg in ipairs(t.args) do
    if arg ~= cjson.null and (type(arg) ~= 'string' or not isJson(arg)) then return nil, 'an argument is not JSON text' end
  end
  if t.heartbeatDetails ~= nil and (type(t.heartbeatDetails) ~= 'string' or not isJson(t.heartbeatDetails)) then
    return nil, 'the heartbeat details are not JSON text'
  end
  return t
end
local function taskAt(name, stream, id)
  local e = redis.call('XRANGE', stream, id, id)
  if #e == 0 then return nil end
  local t, why = decodeTask(field(e[1][2], 'b'))
  if not t then bad(name, 'entry ' .. id .. ': ' .. why) end
  return t
end

-- Protocol v1's view of a task (docs/protocol.md, "The task"): payloads are embedded JSON values.
local function taskView(t)
  local args = {}
  for i, arg in ipairs(t.args) do args[i] = arg == cjson.null and 'null' or arg end
  local fields = {
    {'activityType', str(t.activityType)},
    {'args', '[' .. table.concat(args, ',') .. ']'},
    {'attempt', num(t.attempt)},
    {'activityId', str(num(t.seq))},
    {'workflowId', str(t.workflowId)},
    {'runId', str(t.runId)},
    {'workflowType', str(t.workflowType)},
    {'idempotencyKey', str(t.workflowId .. '-' .. t.runId .. '-' .. num(t.seq))},
    {'scheduledAt', num(t.scheduledAt or 0)},
    {'attemptScheduledAt', num(t.attemptScheduledAt or t.scheduledAt or 0)},
  }
  for _, name in ipairs({'deadline', 'startToCloseMs', 'scheduleToCloseMs', 'heartbeatTimeoutMs'}) do
    if type(t[name]) == 'number' then fields[#fields + 1] = {name, num(t[name])} end
  end
  if t.heartbeatDetails ~= nil then fields[#fields + 1] = {'heartbeatDetails', t.heartbeatDetails} end
  if type(t.headers) == 'table' and next(t.headers) ~= nil then fields[#fields + 1] = {'headers', str(t.headers)} end
  return object(fields)
end

local function sendToWorkflow(tag, t, kind, extra)
  local fields = {{'type', str(kind)}, {'runId', str(t.runId)}, {'seq', num(t.seq)}, {'attempt', num(t.attempt)}}
  for _, f in ipairs(extra) do fields[#fields + 1] = f end
  redis.call('XADD', tag .. ':s:workflow:' .. t.workflowTaskQueue, '*', 'k', t.workflowId, 'b', object(fields))
end
local function finish(stream, id)
  redis.call('XACK', stream, GROUP, id)
  redis.call('XDEL', stream, id)
end
-- Whether the workflow still waits for this attempt (its record, in the same partition).
local function stillWanted(tag, t)
  local raw = redis.call('HGET', tag .. ':x:' .. t.workflowId, 'state')
  if not raw then return false end
  local ok, s = pcall(cjson.decode, raw)
  if not ok or type(s) ~= 'table' or type(s.activities) ~= 'table' then return false end
  local a = s.activities[num(t.seq)]
  return s.status == 'RUNNING' and s.runId == t.runId and type(a) == 'table' and a.attempt == t.attempt and a.dispatched == true
end

--[[ hotmesh_claim: reclaim stalled tasks, then read new ones, from one partition.
KEYS[1] activity stream
ARGV[1] consumer  ARGV[2] count (> 0)  ARGV[3] visibility timeout ms
ARGV[4] max deliveries (0: no limit)    ARGV[5] cursor (from the last claim on this stream, or 0-0)
Returns {next cursor, dead-lettered count, wait-from id, id, deliveries, task JSON, id, ...} ]]
local function claim(keys, args)
  local stream, tag = activityStream('hotmesh_claim', keys)
  if type(args[1]) ~= 'string' or args[1] == '' or args[1] == RELEASED then bad('hotmesh_claim', 'ARGV[1] must be a consumer name') end
  if count('hotmesh_claim', 'ARGV[2] (count)', args[2]) < 1 then bad('hotmesh_claim', 'ARGV[2] (count) must be >= 1') end
  count('hotmesh_claim', 'ARGV[3] (visibility timeout ms)', args[3])
  count('hotmesh_claim', 'ARGV[4] (max deliveries)', args[4])
  local cursor = args[5] or '0-0'
  if not string.match(cursor, '^%d+%-%d+$') then bad('hotmesh_claim', 'ARGV[5] must be a cursor (an entry id such as 0-0)') end
  local dead = tag .. ':d:' .. string.sub(stream, #tag + 4)
  local read, argv = {stream, dead}, {GROUP, args[1], args[2], args[3], args[4], cursor}
  local r = body_read(read, argv)
  if r[1] == 3 then
    redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
    r = body_read(read, argv)
  end
  if r.err then return r end
  local out = {r[2], r[3], '0-0'}
  for i = 4, #r, 4 do
    local id, n, k, b = r[i], r[i + 1], r[i + 2], r[i + 3]
    local t, why = decodeTask(b)
    if t then
      out[#out + 1] = id; out[#out + 1] = n; out[#out + 1] = taskView(t)
    else
      redis.call('XADD', dead, 'MAXLEN', '~', 10000, '*', 'id', id, 'k', k, 'b', b, 'n', n,
        'r', 'undecodable: ' .. why, 'at', string.format('%.0f', nowMs()), 'e', '')
      finish(stream, id)
      out[2] = out[2] + 1
    end
  end
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if last[1] then out[3] = last[1][1] end
  return out
end

--[[ hotmesh_touch: keep a claim alive (reset its idle time), as the Node worker does every third
of the visibility timeout. KEYS[1] activity stream  ARGV[1] entry id  ARGV[2] deliveries (from the claim)
Returns 1 touched, 0 not pending with that delivery count (reclaimed by another, done, or released) ]]
local function touch(keys, args)
  local stream = activityStream('hotmesh_touch', keys)
  local id = entryId('hotmesh_touch', args[1])
  return body_touch({stream}, {GROUP, id, count('hotmesh_touch', 'ARGV[2] (deliveries)', args[2]), RELEASED})[2]
end

--[[ hotmesh_heartbeat: touch the claim, record details for a later attempt (and re-arm the heartbeat
timeout), and say whether the workflow still waits for this attempt.
KEYS[1] activity stream  ARGV[1] entry id  ARGV[2] deliveries  ARGV[3] details (JSON text, '' for none)
Returns {touched 1|0, wanted 1|0}; wanted 0: stop (cancelled, timed out, superseded) and hotmesh_ack ]]
local function heartbeat(keys, args)
  local stream, tag = activityStream('hotmesh_heartbeat', keys)
  local id = entryId('hotmesh_heartbeat', args[1])
  local deliveries = count('hotmesh_heartbeat', 'ARGV[2] (deliveries)', args[2])
  local details = payload('hotmesh_heartbeat', 'ARGV[3] (details)', args[3])
  local touched = body_touch({stream}, {GROUP, id, deliveries, RELEASED})[2]
  local t = taskAt('hotmesh_heartbeat', stream, id)
  if not t or not stillWanted(tag, t) then return {touched, 0} end
  sendToWorkflow(tag, t, 'ActivityHeartbeat', details and {{'details', str(details)}} or {})
  return {touched, 1}
end

--[[ hotmesh_complete: report the attempt's result and acknowledge the task, atomically.
KEYS[1] activity stream  ARGV[1] entry id  ARGV[2] result (JSON text, '' for no value)
Returns 1 done, 0 not pending (done already, or dead-lettered): nothing written ]]
local function complete(keys, args)
  local stream, tag = activityStream('hotmesh_complete', keys)
  local id = entryId('hotmesh_complete', args[1])
  local result = payload('hotmesh_complete', 'ARGV[2] (result)', args[2])
  if not isPending(stream, GROUP, id) then return 0 end
  local t = taskAt('hotmesh_complete', stream, id)
  if not t then return 0 end
  sendToWorkflow(tag, t, 'ActivityCompleted', result and {{'result', str(result)}} or {})
  finish(stream, id)
  return 1
end

--[[ hotmesh_fail: report the attempt's failure (an ApplicationFailure) and acknowledge the task, atomically.
KEYS[1] activity stream  ARGV[1] entry id  ARGV[2] type ('' for Error)  ARGV[3] message
ARGV[4] non-retryable '1' | '0'  ARGV[5] stack trace ('' for none)  ARGV[6 ..] details, each JSON text
Returns 1 done, 0 not pending: nothing written ]]
local function fail(keys, args)
  local stream, tag = activityStream('hotmesh_fail', keys)
  local id = entryId('hotmesh_fail', args[1])
  local kind, message, nonRetryable, stack = args[2] or '', args[3] or '', args[4], args[5] or ''
  if nonRetryable ~= '0' and nonRetryable ~= '1' then bad('hotmesh_fail', "ARGV[4] (non-retryable) must be '1' or '0'") end
  local details = {}
  for i = 6, #args do
    local detail = payload('hotmesh_fail', 'ARGV[' .. i .. '] (a detail)', args[i])
    details[#details + 1] = detail and str(detail) or 'null'
  end
  if not isPending(stream, GROUP, id) then return 0 end
  local t = taskAt('hotmesh_fail', stream, id)
  if not t then return 0 end
  local failure = {
    {'kind', str('application')}, {'message', str(message)}, {'type', str(kind == '' and 'Error' or kind)},
    {'nonRetryable', nonRetryable == '1' and 'true' or 'false'},
  }
  if #details > 0 then failure[#failure + 1] = {'details', '[' .. table.concat(details, ',') .. ']'} end
  if stack ~= '' then failure[#failure + 1] = {'stack', str(stack)} end
  sendToWorkflow(tag, t, 'ActivityFailed', {{'failure', object(failure)}})
  finish(stream, id)
  return 1
end

--[[ hotmesh_ack: acknowledge a task without reporting (the workflow no longer waits for it,
or its outcome will come by task token). KEYS[1] activity stream  ARGV[1] entry id
Returns 1 acknowledged, 0 not pending ]]
local function ack(keys, args)
  local stream = activityStream('hotmesh_ack', keys)
  local id = entryId('hotmesh_ack', args[1])
  if not isPending(stream, GROUP, id) then return 0 end
  finish(stream, id)
  return 1
end

--[[ hotmesh_release: give a claimed task back for immediate re-delivery (a worker shutting down);
the delivery does not count toward dead-lettering. KEYS[1] activity stream  ARGV[1] entry id  ARGV[2] deliveries
Returns 1 released, 0 not pending with that delivery count ]]
local function release(keys, args)
  local stream = activityStream('hotmesh_release', keys)
  local id = entryId('hotmesh_release', args[1])
  local n = count('hotmesh_release', 'ARGV[2] (deliveries)', args[2])
  return body_release({stream}, {GROUP, RELEASED, id, n, math.max(0, n - 1)})[2]
end

-- The one key of the limit functions: a task queue's limiter hash; its lease zset shares the hash tag.
local function limiter(name, keys)
  local key = keys[1]
  local tag = type(key) == 'string' and string.match(key, '^({[^{}]+:q:[^{}]+}):lim$') or nil
  if #keys ~= 1 or not tag then
    bad(name, 'takes one key, a task queue limiter {<namespace>:q:<taskQueue>}:lim; got ' .. tostring(key))
  end
  return key, tag .. ':lease'
end
local function leaseIds(name, args, from)
  local ids = {}
  for i = from, #args do
    if args[i] == '' then bad(name, 'ARGV[' .. i .. '] must be a lease id') end
    ids[#ids + 1] = args[i]
  end
  return ids
end

--[[ hotmesh_acquire: permits to start up to ARGV[2] tasks of a task queue (its rate, concurrency, pause),
the Node store's acquire script. KEYS[1] limiter  ARGV[1] holder (the consumer name)  ARGV[2] want (> 0)
ARGV[3] lease ms (the visibility timeout)
Returns {granted, limited 1|0, retry after ms, lease id, ...}: limited 0 means the queue has no limits
(claim freely, ask again within a second); a lease id per granted task when a concurrency is set ]]
local function acquire(keys, args)
  local lim, leases = limiter('hotmesh_acquire', keys)
  if type(args[1]) ~= 'string' or args[1] == '' then bad('hotmesh_acquire', 'ARGV[1] must be a holder name') end
  local want = count('hotmesh_acquire', 'ARGV[2] (want)', args[2])
  if want < 1 then bad('hotmesh_acquire', 'ARGV[2] (want) must be >= 1') end
  local leaseMs = count('hotmesh_acquire', 'ARGV[3] (lease ms)', args[3])
  if leaseMs < 1 then bad('hotmesh_acquire', 'ARGV[3] (lease ms) must be >= 1') end
  local r = body_acquire({lim, leases}, {args[1], want, leaseMs, PAUSED_RETRY_MS, CONCURRENCY_RETRY_MS})
  table.remove(r, 1)
  return r
end

--[[ hotmesh_unlease: give permits back: delete leases (a task done, or granted and not claimed) and return
unused tokens to the bucket. KEYS[1] limiter  ARGV[1] unused tokens  ARGV[2 ..] lease ids
Returns 1 ]]
local function unlease(keys, args)
  local lim, leases = limiter('hotmesh_unlease', keys)
  local unused = count('hotmesh_unlease', 'ARGV[1] (unused tokens)', args[1])
  local argv = leaseIds('hotmesh_unlease', args, 2)
  table.insert(argv, 1, unused)
  body_unlease({lim, leases}, argv)
  return 1
end

--[[ hotmesh_renew: extend live leases of running tasks to ARGV[1] ms from now (an expired one stays expired).
KEYS[1] limiter  ARGV[1] lease ms  ARGV[2 ..] lease ids
Returns how many were renewed ]]
local function renew(keys, args)
  local _, leases = limiter('hotmesh_renew', keys)
  local leaseMs = count('hotmesh_renew', 'ARGV[1] (lease ms)', args[1])
  local argv = leaseIds('hotmesh_renew', args, 2)
  table.insert(argv, 1, leaseMs)
  return body_renew({leases}, argv)[2]
end

redis.register_function{function_name = 'hotmesh_version', callback = function() return {PROTOCOL_VERSION, LIBRARY_VERSION} end, flags = {'no-writes'}}
redis.register_function('hotmesh_claim', claim)
redis.register_function('hotmesh_touch', touch)
redis.register_function('hotmesh_heartbeat', heartbeat)
redis.register_function('hotmesh_complete', complete)
redis.register_function('hotmesh_fail', fail)
redis.register_function('hotmesh_ack', ack)
redis.register_function('hotmesh_release', release)
redis.register_function('hotmesh_acquire', acquire)
redis.register_function('hotmesh_unlease', unlease)
redis.register_function('hotmesh_renew', renew)
`

/** The back-pressure scripts the library wraps as functions (the same Lua the Node store runs). */
const LIMIT_BODIES = { acquire: ACQUIRE_LUA, unlease: UNLEASE_LUA, renew: RENEW_LUA } as const

/** The library's Lua source, as `FUNCTION LOAD` takes it. */
export const LIBRARY_SOURCE: string = `#!lua name=${LIBRARY_NAME}\n${PRELUDE}\n${
  Object.entries({ ...SCRIPT_BODIES, ...LIMIT_BODIES }).map(([name, body]) => wrap(name, body)).join("\n")
}\n${PROTOCOL}`

/** What `loadFunctions` found and did. */
export type FunctionsLoad =
  /** Redis < 7 has no functions: nothing loaded (the Node store does not need them). */
  | { readonly outcome: "unsupported"; readonly serverVersion: string }
  /** There was none: loaded. */
  | { readonly outcome: "loaded"; readonly version: number }
  /** An older library was replaced. */
  | { readonly outcome: "replaced"; readonly version: number; readonly previous: number }
  /** This version was loaded already: nothing done. */
  | { readonly outcome: "current"; readonly version: number }
  /** A newer library is loaded (a newer HotMesh shares this Redis): left alone. */
  | { readonly outcome: "newer"; readonly version: number; readonly loaded: number }

/**
 * The library version loaded on `client`'s node: `undefined` when there is
 * none, 0 for a `hotmesh` library without `hotmesh_version` (not ours).
 */
export const loadedLibraryVersion = (client: Redis): Effect.Effect<number | undefined, StoreError> =>
  attempt("functions", async () => {
    try {
      const reply = await client.call("FCALL", "hotmesh_version", "0")
      return Array.isArray(reply) ? Number(reply[1]) : 0
    } catch (error) {
      if (!(error instanceof Error && /function not found/i.test(error.message))) throw error
      const listed = await client.call("FUNCTION", "LIST", "LIBRARYNAME", LIBRARY_NAME)
      return Array.isArray(listed) && listed.length > 0 ? 0 : undefined
    }
  })

/**
 * Load the `hotmesh` library on one node (the single-node client, or each
 * master of a cluster in turn): idempotent and versioned — `FUNCTION LOAD`
 * when there is none, `FUNCTION LOAD REPLACE` only over an older version, a
 * newer one is left alone.
 */
export const loadFunctions = (client: Redis): Effect.Effect<FunctionsLoad, StoreError> =>
  Effect.gen(function*() {
    const info = yield* attempt("functions", () => client.info("server"))
    const serverVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown"
    if (Number(serverVersion.split(".")[0]) < 7) return { outcome: "unsupported", serverVersion } as const
    for (let round = 0; ; round++) {
      const loaded = yield* loadedLibraryVersion(client)
      if (loaded === LIBRARY_VERSION) return { outcome: "current", version: LIBRARY_VERSION } as const
      if (loaded !== undefined && loaded > LIBRARY_VERSION) return { outcome: "newer", version: LIBRARY_VERSION, loaded } as const
      if (loaded !== undefined || round > 0) {
        yield* attempt("functions", () => client.call("FUNCTION", "LOAD", "REPLACE", LIBRARY_SOURCE))
        return { outcome: "replaced", version: LIBRARY_VERSION, previous: loaded ?? 0 } as const
      }
      // None loaded: a plain LOAD, so two processes starting at once cannot clobber each other;
      // the loser finds the winner's library on its next look.
      const created = yield* attempt("functions", async () => {
        try {
          await client.call("FUNCTION", "LOAD", LIBRARY_SOURCE)
          return true
        } catch (error) {
          if (error instanceof Error && /already exists/i.test(error.message)) return false
          throw error
        }
      })
      if (created) return { outcome: "loaded", version: LIBRARY_VERSION } as const
    }
  })

/**
 * `loadFunctions` at store start: logs a newer library left alone and a
 * failure to load (no FUNCTION permission, say) as warnings, and never fails
 * the store, which does not call the library itself.
 */
export const loadFunctionsAtStart = (client: Redis): Effect.Effect<void> =>
  loadFunctions(client).pipe(
    Effect.flatMap((load) =>
      load.outcome === "newer"
        ? Effect.logWarning(`hotmesh redis: the hotmesh function library loaded is version ${load.loaded}, newer than this process's ${load.version}; left alone`)
        : load.outcome === "replaced"
        ? Effect.logInfo(`hotmesh redis: replaced the hotmesh function library version ${load.previous} with ${load.version}`)
        : load.outcome === "unsupported"
        ? Effect.logDebug(`hotmesh redis: Redis ${load.serverVersion} has no functions; the hotmesh library (workers in other languages) is not loaded`)
        : Effect.void),
    Effect.catch((error) => Effect.logWarning(`hotmesh redis: could not load the hotmesh function library (workers in other languages need it): ${error.message}`)),
  )
