/**
 * Durable timers on Redis: one sorted set per partition (score = fireAt,
 * epoch ms by Redis `TIME`), written by commits and popped by the `fire`
 * script, which appends each due timer's message in the same script — into
 * the workflow's own stream when it routes to the same partition (a
 * workflow's sleeps, retries and timeouts always do), so it is readable as
 * soon as the script returns, without the outbox relay. A timer never fires
 * early: "due" is decided inside the script with the server's clock.
 * Lateness is whatever the interpreter's sleep until `nextTimerAt` adds
 * (milliseconds), not a polling period.
 *
 * `fireDueTimers(limit)` is one round trip: `fire` on every partition,
 * pipelined, each with a share of `limit` (the remainder rotating, so no
 * partition is favoured). A partition with more due timers than its share
 * reports how many it left; only then a second round hands what is left of
 * `limit` to those partitions. So the limit is never exceeded, no due timer
 * is skipped while the limit allows, and the common case costs one round
 * trip (it used to cost two: a `due` count on every partition, then `fire`).
 */
import { Effect, Option } from "effect"
import type { CommandClient } from "./connection.ts"
import type { StoreError } from "../Store.ts"
import type { Keys } from "./keys.ts"
import { attempt, type RunScript, runOk } from "./scripts.ts"

/** The timer operations of the store. */
export interface Timers {
  readonly fireDueTimers: (limit: number) => Effect.Effect<number, StoreError>
  readonly nextTimerAt: Effect.Effect<Option.Option<number>, StoreError>
  readonly dueBy: (now: number) => Effect.Effect<number, StoreError>
}

/** Make the timer operations over `keys`' partitions. */
export const makeTimers = (client: CommandClient, keys: Keys, runScript: RunScript): Timers => {
  let rotation = 0

  /** `fire` on partition `p` with `quota`: [fired, due timers left beyond the quota]. */
  const fire = (p: number, quota: number) =>
    Effect.map(
      runOk(
        runScript,
        "fire",
        [keys.timers(p), keys.timerData(p), keys.outbox(p), keys.indexExpiryQueue(p), keys.indexExpiring(p), keys.indexExpiryBuckets(p)],
        // Key prefixes the script completes: with a record's key, a term, a bucket's end (its list, its term sets).
        [quota, `${keys.tag(p)}:x:`, keys.indexTerm(p, ""), `${keys.tag(p)}:ib:`, `${keys.tag(p)}:it:`],
      ),
      (r) => [Number(r[0] ?? 0), Number(r[1] ?? 0)] as const,
    )

  const fireDueTimers = (limit: number): Effect.Effect<number, StoreError> =>
    Effect.gen(function*() {
      if (limit <= 0) return 0
      const n = keys.partitions
      const start = rotation++ % n
      const order = Array.from({ length: n }, (_, i) => (start + i) % n)
      const share = Math.floor(limit / n)
      const extra = limit % n
      const first = yield* Effect.forEach(order, (p, i) => fire(p, share + (i < extra ? 1 : 0)), {
        concurrency: "unbounded",
      })
      let fired = 0
      for (const [f] of first) fired += f
      // Second round, only when a partition had more due than its share and the limit allows.
      const quotas: Array<[number, number]> = []
      let budget = limit - fired
      first.forEach(([, left], i) => {
        const q = Math.min(left, budget)
        if (q > 0) quotas.push([order[i]!, q])
        budget -= q
      })
      if (quotas.length === 0) return fired
      const second = yield* Effect.forEach(quotas, ([p, q]) => fire(p, q), { concurrency: "unbounded" })
      for (const [f] of second) fired += f
      return fired
    })

  const partitions = Array.from({ length: keys.partitions }, (_, p) => p)
  const nextTimerAt: Timers["nextTimerAt"] = Effect.map(
    Effect.forEach(
      partitions,
      (p) => attempt("nextTimerAt", () => client.zrange(keys.timers(p), 0, 0, "WITHSCORES")),
      { concurrency: "unbounded" },
    ),
    (firsts) => {
      let earliest = Infinity
      for (const first of firsts) if (first[1] !== undefined) earliest = Math.min(earliest, Number(first[1]))
      return earliest === Infinity ? Option.none() : Option.some(earliest)
    },
  )

  /** How many timers are due by `now` (the server's clock): ZCOUNT on every partition. */
  const dueBy = (now: number): Effect.Effect<number, StoreError> =>
    Effect.map(
      Effect.forEach(partitions, (p) => attempt("dueTimers", () => client.zcount(keys.timers(p), "-inf", now)), { concurrency: "unbounded" }),
      (counts) => counts.reduce((a, b) => a + b, 0),
    )

  return { fireDueTimers, nextTimerAt, dueBy }
}
