/**
 * Run a generated program on a fresh time-skipping environment (optionally
 * behind a store decorator), and check what the journals record.
 */
import { deepStrictEqual } from "node:assert/strict"
import { Effect } from "effect"
import { rootCause } from "../../src/core/failure.ts"
import fc from "fast-check"
import { type JournalEntry, type WorkflowHistory, Worker, WorkflowNotFoundError } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import type { MemoryStore, MemoryStoreOptions } from "../../src/stores/memory.ts"
import type { StoreShape } from "../../src/stores/Store.ts"
import { type Expected, failureShape, type Invocation, makeActivities, type Node, type Outcome, WORKFLOW_TYPE, workflows } from "./programs.ts"

export const TASK_QUEUE = "props"

export interface RunOptions {
  readonly wrapStore?: (store: MemoryStore) => StoreShape
  readonly store?: MemoryStoreOptions
  /** Declare the run stuck after this long (real ms) without store progress. Default 5000. */
  readonly stuckAfterMs?: number
  /** Workers polling the task queue (competing consumers) and their limits. Default one worker, default limits. */
  readonly workers?: Topology
}

/** How many workers, how many live runs each caches (1 forces replays), how many messages each reads at once. */
export interface Topology { readonly count: number; readonly maxCachedWorkflows?: number; readonly maxWorkflowTaskBatch?: number }

/** One worker or two competing ones; a cache of one run (replay on almost every step) or the default; batches of 1 or 64. */
export const topologyArb: fc.Arbitrary<Topology> = fc.record({
  count: fc.constantFrom(1, 2),
  maxCachedWorkflows: fc.constantFrom(1, 1000),
  maxWorkflowTaskBatch: fc.constantFrom(1, 64),
})

export interface RunResult {
  readonly outcome: Outcome
  readonly histories: ReadonlyMap<string, WorkflowHistory>
  readonly invocations: ReadonlyArray<Invocation>
  readonly deadLetters: number
}

let counter = 0
const tick = (ms = 1) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Wraps the store the worker sees, recording when something last made progress. */
const tracking = (inner: StoreShape, progress: { at: number }): StoreShape => {
  const mark = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.tap(self, () => Effect.sync(() => void (progress.at = Date.now())))
  return {
    ...inner,
    commit: (c) => mark(inner.commit(c)),
    append: (m) => mark(inner.append(m)),
    complete: (a, m) => mark(inner.complete(a, m)),
    read: (s, o) => Effect.tap(inner.read(s, o), (ds) => Effect.sync(() => void (ds.length > 0 && (progress.at = Date.now())))),
    fireDueTimers: (l) => Effect.tap(inner.fireDueTimers(l), (n) => Effect.sync(() => void (n > 0 && (progress.at = Date.now())))),
  }
}

/** Run `program` as workflow `rootId`, sending the signals `expected` says it waits for. */
export const runProgram = async (program: Node, expected: Expected, rootId: string, options: RunOptions = {}): Promise<RunResult> => {
  const progress = { at: Date.now() }
  let memory: MemoryStore | undefined
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    // Injected faults make the runtime warn (store errors, failed tasks): expected here, so not printed.
    logLevel: "Error",
    store: options.store ?? { maxDeliveries: 1000 },
    wrapStore: (store) => {
      memory = store
      return tracking(options.wrapStore === undefined ? store : options.wrapStore(store), progress)
    },
  })
  const invocations: Array<Invocation> = []
  const topology = options.workers ?? { count: 1 }
  const workers = await Promise.all(Array.from({ length: topology.count }, (_, i) =>
    Worker.create({
      connection: env.connection, taskQueue: TASK_QUEUE, workflows, activities: makeActivities(invocations), identity: `worker-${i}`,
      ...(topology.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: topology.maxCachedWorkflows }),
      ...(topology.maxWorkflowTaskBatch === undefined ? {} : { maxWorkflowTaskBatch: topology.maxWorkflowTaskBatch }),
    })))
  const running = workers.map((worker) => worker.run())
  // A stuck run is abandoned: its promises may reject (interrupted) long after the property moved on.
  const abandon = (promise: Promise<unknown>) => void promise.catch(() => undefined)
  running.forEach(abandon)
  let stuck = false
  let done = false
  try {
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, { taskQueue: TASK_QUEUE, workflowId: rootId, args: [program] })
    const signals = Promise.all(expected.signals.map(async ({ workflowId, name, value }) => {
      while (!done) {
        try {
          return await env.client.workflow.getHandle(workflowId).signal(name, value)
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error
          await tick(2) // the child has not started yet
        }
      }
    }))
    abandon(signals)
    const watchdog = (async () => {
      const limit = options.stuckAfterMs ?? 5000
      while (!done) {
        await tick(50)
        if (!done && Date.now() - progress.at > limit) {
          stuck = true
          const states = await Promise.all(expected.workflows.map((w) =>
            env.client.workflow.getHandle(w.workflowId).describe().then(
              (d) => `${w.workflowId}: ${d.status}${d.taskFailure ? ` task failure ${d.taskFailure.type}: ${d.taskFailure.message}` : ""} pending ${JSON.stringify(d.pendingActivities)}`,
              (e: unknown) => `${w.workflowId}: ${String(e)}`,
            )))
          const store = await env.connection.runtime.runPromise(Effect.gen(function* () {
            const next = yield* memory!.nextTimerAt
            return `store: ${yield* memory!.pendingMessages} pending messages, now ${yield* memory!.now}, next timer ${JSON.stringify(next)}`
          })).catch((e: unknown) => String(e))
          throw new Error(`stuck: no store progress for ${limit} ms (real time)\n${store}\n${states.join("\n")}`)
        }
      }
    })()
    const outcome: Outcome = await Promise.race([
      handle.result().then((value) => ({ ok: true as const, value: value as number }), (error: unknown) => ({ ok: false as const, failure: failureShape(error) })),
      watchdog.then(() => { throw new Error("unreachable") }),
    ])
    done = true
    await signals
    const histories = new Map<string, WorkflowHistory>()
    for (const w of expected.workflows) histories.set(w.workflowId, await env.client.workflow.getHandle(w.workflowId).fetchHistory())
    const deadLetters = await env.connection.runtime.runPromise(Effect.gen(function* () {
      const wf = yield* memory!.deadLetters({ kind: "workflow", taskQueue: TASK_QUEUE })
      const act = yield* memory!.deadLetters({ kind: "activity", taskQueue: TASK_QUEUE })
      return wf.length + act.length
    }))
    return { outcome, histories, invocations: [...invocations], deadLetters }
  } finally {
    done = true
    if (stuck) {
      // A stuck batch may be uninterruptible: do not wait for it (the skip loop stops at once).
      for (const worker of workers) abandon(worker.shutdown())
      abandon(env.teardown())
    } else {
      await Promise.all(workers.map((worker) => worker.shutdown()))
      await Promise.all(running)
      await env.teardown()
    }
  }
}

/** A fresh root workflow id. */
export const freshId = (label: string): string => `${label}-${++counter}`

const seqOf = (e: JournalEntry): number | undefined => ("seq" in e ? e.seq : undefined)
const keyOf = (e: JournalEntry): string => {
  if (e.type === "SignalReceived") return `${e.type}:${e.name}`
  if (e.type === "ActivityRetrying") return `${e.type}:${e.seq}:attempt ${e.attempt}`
  const seq = seqOf(e)
  return seq === undefined ? e.type : `${e.type}:${seq}`
}
const CLOSE = new Set(["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled", "WorkflowTerminated", "WorkflowContinuedAsNew"])

/**
 * Journals record each fact exactly once, resolve every call they start, and
 * agree with the reference: outcome, calls, activity attempts. Activity
 * invocations are the recorded attempts (exactly once each when `exact`), but
 * for local ones: a step that lost a commit race runs its local activities again.
 */
export const checkJournals = (expected: Expected, run: RunResult, exact: boolean): void => {
  deepStrictEqual(run.outcome, expected.outcome, "workflow outcome differs from the reference")
  deepStrictEqual(run.deadLetters, 0, "dead-lettered messages")
  const recordedAttempts = new Set<string>()
  for (const w of expected.workflows) {
    const events = run.histories.get(w.workflowId)!.events
    const where = `journal of ${w.workflowId}`
    const counts = new Map<string, number>()
    for (const e of events) counts.set(keyOf(e), (counts.get(keyOf(e)) ?? 0) + 1)
    const repeated = [...counts].filter(([, n]) => n > 1)
    deepStrictEqual(repeated, [], `${where}: entries recorded more than once ${JSON.stringify(repeated)}`)
    deepStrictEqual(events[0]?.type, "WorkflowStarted", `${where}: does not start with WorkflowStarted`)
    const closes = events.filter((e) => CLOSE.has(e.type))
    deepStrictEqual(closes.length === 1 && closes[0] === events[events.length - 1], true, `${where}: must end with its only close entry`)
    const last = events[events.length - 1]!
    const recorded = last.type === "WorkflowCompleted" ? { ok: true, value: JSON.parse(last.result!) as number }
      : last.type === "WorkflowFailed" ? { ok: false, message: rootCause(last.failure).message } : { ok: false, message: last.type }
    deepStrictEqual(recorded, w.outcome.ok ? w.outcome : { ok: false, message: w.outcome.failure.message }, `${where}: recorded outcome`)
    // Tasks are numbered 1, 2, 3, ... in journal order.
    const tasks = events.flatMap((e) => ("task" in e ? [e.task] : []))
    tasks.forEach((task, i) => {
      if (task !== 1 && task !== tasks[i - 1] && task !== tasks[i - 1]! + 1) throw new Error(`${where}: task ${task} follows task ${tasks[i - 1]}`)
    })
    // Commands own sequence numbers 1..n, and each call is resolved exactly once.
    const started = events.filter((e) => e.type === "ActivityScheduled" || e.type === "TimerStarted" || e.type === "ChildStartInitiated")
    deepStrictEqual(started.map(seqOf).sort((a, b) => a! - b!), started.map((_, i) => i + 1), `${where}: command sequence numbers`)
    const resolved = (seq: number, types: ReadonlyArray<string>) => events.filter((e) => seqOf(e) === seq && types.includes(e.type)).length
    for (const s of started) {
      const seq = seqOf(s)!
      const types = s.type === "ActivityScheduled" ? ["ActivityCompleted", "ActivityFailed"] : s.type === "TimerStarted" ? ["TimerFired"] : ["ChildCompleted", "ChildFailed", "ChildStartFailed"]
      deepStrictEqual(resolved(seq, types), 1, `${where}: ${s.type} seq ${seq} resolved ${resolved(seq, types)} times`)
    }
    const calls = started.map((e) => e.type === "ActivityScheduled" ? `activity ${e.activityType}` : e.type === "TimerStarted" ? "timer" : `child ${e.type === "ChildStartInitiated" ? e.workflowId : ""}`)
    deepStrictEqual(calls.sort(), [...w.calls], `${where}: durable calls`)
    // Activity attempts: 1 + one ActivityRetrying note per retry, numbered 2, 3, ...
    let attempts = 0
    for (const s of started.filter((e) => e.type === "ActivityScheduled")) {
      const seq = seqOf(s)!
      const retries = events.flatMap((e) => (e.type === "ActivityRetrying" && e.seq === seq ? [e.attempt] : []))
      deepStrictEqual(retries, retries.map((_, i) => i + 2), `${where}: retries of seq ${seq}`)
      for (let a = 1; a <= retries.length + 1; a++) recordedAttempts.add(`${w.workflowId}/${seq}/${a}`)
      attempts += retries.length + 1
    }
    deepStrictEqual(attempts, w.attempts, `${where}: activity attempts recorded`)
  }
  const invoked = new Map<string, number>()
  for (const i of run.invocations) invoked.set(`${i.workflowId}/${i.seq}/${i.attempt}`, (invoked.get(`${i.workflowId}/${i.seq}/${i.attempt}`) ?? 0) + 1)
  // A local activity runs inside its workflow step: a step that loses a commit race to another
  // worker's step of the same workflow is recomputed, and its local activities run again — at
  // another seq when the other step changed the order of events (seen: seq 3 attempt 1, then seq 4
  // attempts 1 and 2). Such an attempt is never recorded, and that is at-least-once, not a loss.
  const unrecordedRemote = run.invocations.filter((i) => !i.local && !recordedAttempts.has(`${i.workflowId}/${i.seq}/${i.attempt}`))
  deepStrictEqual(unrecordedRemote.map((i) => `${i.workflowId}/${i.seq}/${i.attempt}`), [], "activity attempts invoked but never recorded")
  deepStrictEqual([...recordedAttempts].filter((k) => !invoked.has(k)), [], "activity attempts recorded but never invoked")
  if (exact) {
    const local = new Set(run.invocations.filter((i) => i.local).map((i) => `${i.workflowId}/${i.seq}/${i.attempt}`))
    deepStrictEqual([...invoked].filter(([k, n]) => n !== 1 && !local.has(k)), [], "activity attempts invoked more than once without faults")
  }
}
