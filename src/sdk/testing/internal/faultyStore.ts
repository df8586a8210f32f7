/**
 * A `StoreShape` decorator that injects the faults a durable runtime must
 * absorb, driven by a generated schedule. Each store operation of a kind
 * consumes the next entry of its list; when a list runs out, that operation
 * behaves normally again (so every schedule eventually lets the run finish).
 *
 * - commits (a worker's step, i.e. commits with an `ack`):
 *   `duplicate`  the commit applies, then its messages are appended again;
 *   `lostAck`    the commit applies without its ack, and the message is released
 *                (re-delivered later, as after a lost XACK);
 *   `lostResponse` the commit applies, but the caller is told it lost a version
 *                race (its reply was lost; it retries);
 *   `crash`      the commit never reaches the store; the message is released and
 *                the caller told another consumer took it (as after a crash
 *                between read and commit);
 *   `storeError` the commit fails with `StoreError` before reaching the store.
 * - completes (activity results): `duplicate`, `lostAck` (result appended, task
 *   released: the activity runs again), `crash` (result lost, task released),
 *   `storeError`.
 * - appends (client signals): `duplicate`.
 * - reads: `shuffle` (permute the batch), `shuffleKeys` (permute workflows, keep
 *   each workflow's order), `redeliver` (hand one delivery out again in the next
 *   read, as a reclaim by another consumer would), `delay` (a few real ms first,
 *   so batches grow), `storeError`.
 * - timers: each timer set by a commit fires `late` ms later than asked.
 * - fires: `stall` (a few real ms before firing due timers).
 */
import { Effect } from "effect"
import type fcModule from "fast-check"
import { CommitConflict, type Delivery, type OutboundMessage, StoreError, type StoreShape, type TimerEntry } from "../../../stores/Store.ts"

/** The fast-check module (an optional peer dependency of `hotmesh/testing`: callers pass the instance they loaded). */
export type FastCheck = typeof fcModule

export type CommitFault = "none" | "duplicate" | "lostAck" | "lostResponse" | "crash" | "storeError"
export type CompleteFault = "none" | "duplicate" | "lostAck" | "crash" | "storeError"
export type ReadFault = "none" | "shuffle" | "shuffleKeys" | "redeliver" | "delay" | "storeError"

export interface FaultSchedule {
  readonly commits: ReadonlyArray<CommitFault>
  readonly completes: ReadonlyArray<CompleteFault>
  readonly appends: ReadonlyArray<"none" | "duplicate">
  readonly reads: ReadonlyArray<{ readonly fault: ReadFault; readonly rand: number }>
  readonly timers: ReadonlyArray<number>
  readonly fires: ReadonlyArray<"none" | "stall">
}

const pick = <T>(fc: FastCheck, none: T, faults: ReadonlyArray<T>, noneWeight: number) =>
  faults.length === 0 ? fc.constant(none) : fc.oneof({ weight: noneWeight, arbitrary: fc.constant(none) }, ...faults.map((f) => ({ weight: 1, arbitrary: fc.constant(f) })))

/** Which fault kinds a schedule may contain (all, when not given). */
export interface FaultKinds {
  readonly commits?: ReadonlyArray<Exclude<CommitFault, "none">>
  readonly completes?: ReadonlyArray<Exclude<CompleteFault, "none">>
  readonly appends?: boolean
  readonly reads?: ReadonlyArray<Exclude<ReadFault, "none">>
  readonly timers?: boolean
  readonly fires?: boolean
}

/**
 * Fault schedules; `storeErrors` adds `StoreError` faults (the worker retries them with backoff);
 * `kinds` restricts the faults drawn (default: all but store errors).
 */
export const faultScheduleArb = (fc: FastCheck, options: { readonly storeErrors?: boolean; readonly kinds?: FaultKinds } = {}): fcModule.Arbitrary<FaultSchedule> => {
  const errors = options.storeErrors === true ? (["storeError"] as const) : []
  const kinds = options.kinds ?? {}
  const commits = kinds.commits ?? ["duplicate", "lostAck", "lostResponse", "crash"]
  const completes = kinds.completes ?? ["duplicate", "lostAck", "crash"]
  const reads = kinds.reads ?? ["shuffle", "shuffleKeys", "redeliver", "delay"]
  return fc.record({
    commits: fc.array(pick<CommitFault>(fc, "none", [...commits, ...errors], 1), { maxLength: 40 }),
    completes: fc.array(pick<CompleteFault>(fc, "none", [...completes, ...errors], 1), { maxLength: 20 }),
    appends: fc.array(pick<"none" | "duplicate">(fc, "none", kinds.appends === false ? [] : ["duplicate"], 1), { maxLength: 5 }),
    reads: fc.array(fc.record({ fault: pick<ReadFault>(fc, "none", [...reads, ...errors], 2), rand: fc.nat() }), { maxLength: 40 }),
    timers: kinds.timers === false ? fc.constant([]) : fc.array(fc.constantFrom(0, 0, 1, 1000, 60_000, 86_400_000), { maxLength: 20 }),
    fires: fc.array(pick<"none" | "stall">(fc, "none", kinds.fires === false ? [] : ["stall"], 2), { maxLength: 20 }),
  })
}

/** How often each fault was applied. */
export type FaultCounts = Record<string, number>

const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))
const idOf = (d: Delivery) => `${d.stream.kind}:${d.stream.taskQueue}/${d.id}`
const copies = (messages: ReadonlyArray<OutboundMessage> | undefined) => (messages ?? []).map((m) => ({ ...m, stream: { ...m.stream } }))

/** A small deterministic generator from a schedule's number. */
const lcg = (seed: number) => {
  let s = seed >>> 0
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
}
const shuffled = <T>(items: ReadonlyArray<T>, rand: () => number): Array<T> => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Options of `faultyStore`. */
export interface FaultyStoreOptions {
  /**
   * Also lose the reply of commits that set timers. The worker then never wakes
   * its timer loop for those timers; on a real clock the loop still polls within
   * a second, but the time-skipping environment waits forever for it. Default false.
   */
  readonly lostRepliesOnTimers?: boolean
  /**
   * How late each timer fires, as a function of the timer (instead of the
   * schedule's `timers` list, which is consumed in commit order): the same
   * timer is then equally late in every run.
   */
  readonly lateness?: (timer: TimerEntry) => number
  /** Told of each fault applied: its name and the workflow (routing key) it hit. */
  readonly onFault?: (fault: string, key: string) => void
}

/** Decorate `inner` with the faults of `schedule`; `counts` tallies the faults applied. */
export const faultyStore = (inner: StoreShape, schedule: FaultSchedule, counts: FaultCounts = {}, options: FaultyStoreOptions = {}): StoreShape => {
  const cursor = { commits: 0, completes: 0, appends: 0, reads: 0, timers: 0, fires: 0 }
  const next = <K extends keyof typeof cursor>(kind: K): FaultSchedule[K][number] | undefined =>
    (schedule[kind] as ReadonlyArray<FaultSchedule[K][number]>)[cursor[kind]++]
  let faultKey = ""
  const count = (what: string, key = faultKey) => {
    counts[what] = (counts[what] ?? 0) + 1
    options.onFault?.(what, key)
  }
  /** Deliveries this decorator knows were acknowledged (so a dropped ack never hides a "not pending" conflict). */
  const acked = new Set<string>()
  const redeliveries = new Map<string, Array<Delivery>>()
  const injected = (what: string) => new StoreError({ operation: what, message: `injected fault: ${what}` })

  const commit: StoreShape["commit"] = (c) =>
    Effect.gen(function* () {
      faultKey = c.key
      const timers = c.timers?.map((t) => {
        const late = options.lateness === undefined ? next("timers") ?? 0 : options.lateness(t)
        if (late > 0) count("timer late")
        return late > 0 ? { ...t, fireAt: t.fireAt + late } : t
      })
      const commit = timers === undefined ? c : { ...c, timers }
      const ack = c.ack
      const scheduled = ack === undefined ? "none" : next("commits") ?? "none"
      const fault = scheduled === "lostResponse" && timers !== undefined && options.lostRepliesOnTimers !== true ? "none" : scheduled
      if (fault !== "none") count(`commit ${fault}`)
      if (ack === undefined) return yield* inner.commit(commit)
      switch (fault) {
        case "storeError":
          return yield* injected("commit")
        case "crash":
          yield* inner.release([ack])
          return yield* new CommitConflict({ key: c.key, expectedVersion: c.expectedVersion, actualVersion: c.expectedVersion, reason: "not-pending" })
        case "lostAck":
          if (!acked.has(idOf(ack))) {
            const { ack: _, claim: __, ...rest } = commit
            yield* inner.commit(rest)
            yield* inner.release([ack])
            return
          }
          break
        case "lostResponse": {
          // The reply is lost, so what the commit claimed would be too: this one claims nothing (a store may always claim less).
          const { claim: _, ...unclaimed } = commit
          yield* inner.commit(unclaimed)
          acked.add(idOf(ack))
          return yield* new CommitConflict({ key: c.key, expectedVersion: c.expectedVersion, actualVersion: c.expectedVersion + 1, reason: "version" })
        }
        default:
          break
      }
      const claimed = yield* inner.commit(commit)
      acked.add(idOf(ack))
      if (fault === "duplicate" && c.messages !== undefined) yield* inner.append(copies(c.messages))
      return claimed
    })

  const complete: StoreShape["complete"] = (ack, messages, claim) =>
    Effect.gen(function* () {
      const fault = next("completes") ?? "none"
      if (fault !== "none") count(`complete ${fault}`, ack.key)
      switch (fault) {
        case "storeError":
          return yield* injected("complete")
        case "crash":
          return yield* inner.release([ack])
        case "lostAck":
          if (!acked.has(idOf(ack))) {
            yield* inner.append(messages)
            return yield* inner.release([ack])
          }
          break
        default:
          break
      }
      const claimed = yield* inner.complete(ack, messages, claim)
      acked.add(idOf(ack))
      if (fault === "duplicate") yield* inner.append(copies(messages))
      return claimed
    })

  const read: StoreShape["read"] = (stream, options) =>
    Effect.gen(function* () {
      const name = `${stream.kind}:${stream.taskQueue}`
      const again = redeliveries.get(name) ?? []
      redeliveries.delete(name)
      const entry = again.length > 0 ? undefined : next("reads")
      const fault = entry?.fault ?? "none"
      if (fault !== "none") count(`read ${fault}`, "")
      if (fault === "storeError") return yield* injected("read")
      if (fault === "delay") yield* realSleep(1 + (entry!.rand % 4))
      const got = yield* inner.read(stream, again.length > 0 ? { ...options, blockMs: 0 } : options)
      const batch = [...got, ...again]
      const rand = lcg(entry?.rand ?? 0)
      switch (fault) {
        case "shuffle":
          return shuffled(batch, rand)
        case "shuffleKeys": {
          const keys = shuffled([...new Set(batch.map((d) => d.key))], rand)
          return keys.flatMap((key) => batch.filter((d) => d.key === key))
        }
        case "redeliver":
          if (batch.length > 0) redeliveries.set(name, [batch[Math.floor(rand() * batch.length)]!])
          return batch
        default:
          return batch
      }
    })

  return {
    ...inner,
    commit,
    complete,
    read,
    append: (messages) =>
      Effect.gen(function* () {
        const fault = next("appends") ?? "none"
        yield* inner.append(messages)
        if (fault === "duplicate") {
          count("append duplicate", messages[0]?.key ?? "")
          yield* inner.append(copies(messages))
        }
      }),
    fireDueTimers: (limit) =>
      Effect.gen(function* () {
        if ((next("fires") ?? "none") === "stall") {
          count("fire stall", "")
          yield* realSleep(2)
        }
        return yield* inner.fireDueTimers(limit)
      }),
  }
}
