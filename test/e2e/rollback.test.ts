/**
 * A store that loses recent writes must not let a worker's cached state
 * overwrite what was written since (issue 9, F1). Deterministic, on the
 * memory store: a decorator puts one workflow's record (and its run's
 * journal) back as it was at a snapshot — the same version number, state and
 * token — as a Redis restored from an older dump does. The version alone
 * cannot tell the restored record's later writes from the ones the worker
 * cached; the write token can. test/redis/rollback.test.ts does the same
 * with a real redis-server killed and restarted from an older dump.rdb.
 */
import { Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { Effect, Option } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { encodeMessage } from "../../src/core/messages.ts"
import type { MemoryStore } from "../../src/stores/memory.ts"
import { CommitConflict, type ExecutionRecord, type StoreShape } from "../../src/stores/Store.ts"
import { eventually, expectTerminationStood, unique } from "../fixtures/e2e-support.ts"
import * as workflows from "../fixtures/signal-workflows.ts"

/** A record and its run's journal as they were at one moment. */
interface Snapshot {
  readonly record: ExecutionRecord
  readonly journal: ReadonlyArray<string>
}

/**
 * The store, plus `snapshot`/`restore` of one workflow's record and journal.
 * Restoring writes the snapshot, through the contract, under a fresh key (the
 * same version, reached by filler writes, then the snapshot's state, token
 * and journal) and sends every record operation of the workflow there from
 * then on; streams and timers are left alone. The store's own commit check
 * is what decides.
 */
const rollbackable = (inner: StoreShape) => {
  const aliases = new Map<string, string>()
  const at = (key: string) => aliases.get(key) ?? key
  let restores = 0
  const store: StoreShape = {
    ...inner,
    load: (key) => Effect.map(inner.load(at(key)), Option.map((record) => ({ ...record, key }))),
    loadJournal: (key, journalId) => inner.loadJournal(at(key), journalId),
    commit: (c) =>
      inner.commit({ ...c, key: at(c.key) }).pipe(
        Effect.mapError((e) => (e._tag === "CommitConflict" ? new CommitConflict({ ...e, key: c.key }) : e)),
      ),
    awaitUpdate: (key, afterVersion, timeoutMs) => inner.awaitUpdate(at(key), afterVersion, timeoutMs),
  }
  const snapshot = (key: string, runId: string): Promise<Snapshot> =>
    Effect.runPromise(Effect.gen(function* () {
      const record = Option.getOrThrow(yield* store.load(key))
      return { record, journal: yield* store.loadJournal(key, runId) }
    }))
  const restore = (key: string, runId: string, { record, journal }: Snapshot): Promise<void> =>
    Effect.runPromise(Effect.gen(function* () {
      const fresh = `${key}~restored-${++restores}`
      const filler = (v: number) => `filler-${restores}-${v}`
      for (let v = 1; v <= record.version; v++) {
        const last = v === record.version
        yield* inner.commit({
          key: fresh,
          expectedVersion: v - 1,
          ...(v === 1 ? {} : { expectedToken: filler(v - 1) }),
          state: record.state,
          token: last ? record.token : filler(v),
          ...(last && journal.length > 0 ? { journal: { id: runId, from: 0, entries: journal } } : {}),
        })
      }
      aliases.set(key, fresh)
    }))
  return { store, snapshot, restore }
}

let env: TestWorkflowEnvironment | undefined
afterEach(async () => {
  await env?.teardown()
  env = undefined
})

describe("a store rolled back under a worker's cache", () => {
  it("a TERMINATED workflow is not committed back to COMPLETED by a worker that cached a lost write", async () => {
    let memory: MemoryStore | undefined
    let rollback: ReturnType<typeof rollbackable> | undefined
    env = await TestWorkflowEnvironment.createTimeSkipping({
      wrapStore: (store) => {
        memory = store
        rollback = rollbackable(store)
        return rollback.store
      },
    })
    const taskQueue = unique("rollback")
    const workflowId = unique("collector")
    const worker = await Worker.create({ connection: env.connection, taskQueue, workflows })
    const running = worker.run()
    const idle = () => eventually(async () => ((await Effect.runPromise(memory!.pendingMessages)) === 0 ? true : undefined), "the worker to finish its messages")
    try {
      const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId })
      await eventually(async () => ((await handle.describe()).historyLength > 0 ? true : undefined), "the first workflow task")
      await idle()
      const { runId } = await handle.describe()
      // The "SAVE": record and journal as they are now.
      const saved = await rollback!.snapshot(workflowId, runId)
      // A step after the snapshot: the worker caches its state (version + 1, its token).
      await handle.signal(workflows.add, 1, "lost")
      await idle()
      // The signal's step took the cached run (a hit) and, once committed, put it back at the new version.
      await eventually(() => {
        const stats = worker.getCacheStats()
        return stats.hits === 1 && stats.entries === 1 ? true : undefined
      }, "the worker to cache the signal's step")
      const cachedVersion = saved.record.version + 1
      // The store loses that step: the record is back at the snapshot.
      await rollback!.restore(workflowId, runId, saved)
      expect((await handle.describe()).historyLength).toBe(saved.journal.length)
      // The client terminates from the restored record: it writes the version the worker cached, with other contents.
      await handle.terminate("stop after restore")
      const afterTerminate = await Effect.runPromise(rollback!.store.load(workflowId))
      expect(Option.getOrThrow(afterTerminate).version).toBe(cachedVersion)
      // A message already on its way reaches the worker, which still holds its cached live run.
      await Effect.runPromise(rollback!.store.append([{
        stream: { kind: "workflow", taskQueue },
        key: workflowId,
        body: encodeMessage({ type: "Signal", signalId: "in-flight-finish", name: "finish", args: [] }),
      }]))
      await idle()

      // The cached guess lost (same version, another token): the termination stands.
      await expectTerminationStood(handle)
      // The journal is the record's history, and replays.
      await Worker.runReplayHistory({ workflows }, await handle.fetchHistory())
    } finally {
      await worker.shutdown()
      await running
    }
  })
})
