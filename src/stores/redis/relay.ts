/**
 * The outbox relay: moves messages that a script of partition A wrote for a
 * key of partition B (a commit starting a child workflow, a timer whose
 * message routes elsewhere, ...) from A's outbox stream into B's task-queue
 * stream. A script may only touch one slot, so this hop cannot be part of
 * the commit; the commit makes it durable instead (the outbox entry is
 * written atomically with the step), and the relay delivers it later.
 *
 * Every store instance runs one relay loop; the outboxes are read with the
 * consumer group `relay`, so several processes share the work and a crashed
 * relay's entries are reclaimed after the visibility timeout. Delivery then
 * acknowledgement are two scripts (two slots): a crash between them re-relays
 * the entry. The target partition keeps a dedupe mark per entry for an hour
 * (`relay` script), so re-relaying within that window is a no-op; beyond it,
 * delivery is at-least-once, and the workflow layer absorbs the duplicate
 * because it ignores events it has already applied (design.md, invariant 2).
 */
import { Effect } from "effect"
import type { StoreError } from "../Store.ts"
import { decodeDestination } from "./encode.ts"
import type { Entry, GroupReader, PartitionedStream } from "./groupReader.ts"
import { type Keys, OUTBOX_GROUP } from "./keys.ts"
import { sleepReal } from "./realtime.ts"
import { type RunScript, runOk } from "./scripts.ts"

/** How long a relayed entry's dedupe mark lives in the target partition. */
export const RELAY_DEDUPE_WINDOW_MS = 60 * 60 * 1000

/** Dependencies and tuning of the relay loop. */
export interface RelayOptions {
  readonly keys: Keys
  readonly reader: GroupReader
  readonly runScript: RunScript
  /** Consumer name of this store instance in the outbox group. */
  readonly consumer: string
  /** Entries relayed per batch. */
  readonly batch?: number
  /** Upper bound of one blocking wait on the outboxes (new entries wake it at once). */
  readonly blockMs?: number
}

/** The outbox streams of every partition, as one partitioned stream. */
export const outboxStream = (keys: Keys): PartitionedStream => {
  const outboxes = Array.from({ length: keys.partitions }, (_, p) => keys.outbox(p))
  return { streams: outboxes, dead: outboxes, group: OUTBOX_GROUP, maxDeliveries: 0 }
}

/** Deliver `entries` to their target partitions, then acknowledge them in their outboxes. */
export const relayBatch = (
  options: RelayOptions,
  entries: ReadonlyArray<Entry>,
): Effect.Effect<number, StoreError> => {
  const { keys, runScript } = options
  const byTarget = new Map<number, { keys: Array<string>; args: Array<string | number> }>()
  const bySource = new Map<number, Array<string>>()
  for (const e of entries) {
    let acks = bySource.get(e.partition)
    if (acks === undefined) bySource.set(e.partition, (acks = [OUTBOX_GROUP]))
    acks.push(e.entryId)
    const destination = decodeDestination(e.key)
    if (destination === undefined) continue // malformed: acknowledged and dropped
    const target = keys.partitionOf(destination.key)
    let call = byTarget.get(target)
    if (call === undefined) {
      byTarget.set(target, (call = { keys: [keys.relayed(target)], args: [RELAY_DEDUPE_WINDOW_MS] }))
    }
    call.keys.push(keys.stream(target, destination.stream, keys.laneOfMessage({ ...destination, body: "" })))
    call.args.push(`${e.partition}/${e.entryId}`, destination.key, e.body)
  }
  return Effect.gen(function*() {
    const delivered = yield* Effect.forEach(
      byTarget.values(),
      (call) => Effect.map(runOk(runScript, "relay", call.keys, call.args), (r) => Number(r[0] ?? 0)),
      { concurrency: "unbounded" },
    )
    yield* Effect.forEach(bySource, ([p, args]) => runOk(runScript, "ack", [keys.outbox(p)], args), {
      concurrency: "unbounded",
      discard: true,
    })
    return delivered.reduce((a, b) => a + b, 0)
  })
}

/**
 * Relay forever: block on the outboxes, relay what arrives. A failed batch is
 * given back for immediate retry; any failure backs off (up to 2 s) and the
 * loop goes on. Interrupt it to stop (the store's scope does).
 */
export const runRelay = (options: RelayOptions): Effect.Effect<never> => {
  const stream = outboxStream(options.keys)
  const batch = options.batch ?? 100
  const blockMs = options.blockMs ?? 5_000
  let failures = 0
  const step = Effect.gen(function*() {
    const entries = yield* options.reader.read(stream, { consumer: options.consumer, count: batch, blockMs })
    if (entries.length === 0) return
    yield* relayBatch(options, entries).pipe(
      Effect.tapError(() => Effect.ignore(options.reader.giveBack(stream, entries, false))),
    )
  })
  return step.pipe(
    Effect.tap(() => Effect.sync(() => (failures = 0))),
    Effect.catch((error) =>
      Effect.andThen(
        Effect.logWarning("hotmesh redis relay: batch failed, retrying", error.message),
        Effect.suspend(() => sleepReal(Math.min(50 * 2 ** failures++, 2_000))),
      )
    ),
    Effect.forever,
  )
}
