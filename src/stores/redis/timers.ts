/**
 * Durable timers on Redis: one sorted set per partition (score = fireAt,
 * epoch ms by Redis `TIME`), written by commits and popped by the `fire`
 * script, which appends each due timer's message in the same script. A timer
 * never fires early: "due" is decided inside the script with the server's
 * clock. Lateness is whatever the interpreter's sleep until `nextTimerAt`
 * adds (milliseconds), not a polling period.
 *
 * `fireDueTimers(limit)` costs one round trip when nothing is due (the `due`
 * script on every partition, pipelined) and two otherwise: the due counts
 * split `limit` into per-partition quotas, then `fire` runs on the
 * partitions that have due timers, concurrently. So the limit is never
 * exceeded and no partition is skipped.
 */
import { Effect, Option } from "effect"
import type { Redis } from "ioredis"
import type { StoreError } from "../Store.ts"
import type { Keys } from "./keys.ts"
import { attempt, type RunScript, runOk } from "./scripts.ts"

/** The timer operations of the store. */
export interface Timers {
  readonly fireDueTimers: (limit: number) => Effect.Effect<number, StoreError>
  readonly nextTimerAt: Effect.Effect<Option.Option<number>, StoreError>
}

/** Make the timer operations over `keys`' partitions. */
export const makeTimers = (client: Redis, keys: Keys, runScript: RunScript): Timers => {
  const partitions = Array.from({ length: keys.partitions }, (_, p) => p)
  let rotation = 0

  const fireDueTimers = (limit: number): Effect.Effect<number, StoreError> =>
    Effect.gen(function*() {
      if (limit <= 0) return 0
      const due = yield* Effect.forEach(
        partitions,
        (p) => Effect.map(runOk(runScript, "due", [keys.timers(p)], []), (r) => Number(r[0] ?? 0)),
        { concurrency: "unbounded" },
      )
      // Quotas in rotating partition order, so a busy partition cannot starve the others.
      const start = rotation++ % keys.partitions
      const quotas: Array<[number, number]> = []
      let left = limit
      for (let i = 0; i < keys.partitions && left > 0; i++) {
        const p = (start + i) % keys.partitions
        const q = Math.min(due[p] ?? 0, left)
        if (q > 0) quotas.push([p, q])
        left -= q
      }
      const fired = yield* Effect.forEach(
        quotas,
        ([p, q]) =>
          Effect.map(
            runOk(runScript, "fire", [keys.timers(p), keys.timerData(p), keys.outbox(p)], [q]),
            (r) => Number(r[0] ?? 0),
          ),
        { concurrency: "unbounded" },
      )
      return fired.reduce((a, b) => a + b, 0)
    })

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

  return { fireDueTimers, nextTimerAt }
}
