/**
 * One run of `checkWorkflow`: a fresh time-skipping environment, one worker,
 * the workflow started with the generated arguments, and a driver that
 * delivers the generated client events at *wait points* — the moments when
 * nothing can progress without time passing — and otherwise moves the
 * virtual clock to the next timer. Faults come from the (shared) fault store;
 * a fault-free run uses the same store with an empty schedule, so both see
 * the same timer lateness and the same run id.
 */
import { Effect, Option } from "effect"
import { encodeArgs } from "../../../core/payload.ts"
import type { JournalEntry } from "../../../core/journal.ts"
import { startWorkflow } from "../../../effects/client.ts"
import type { MemoryStore } from "../../../stores/memory.ts"
import type { StoreShape, TimerEntry } from "../../../stores/Store.ts"
import { Context } from "../../activity/index.ts"
import { WorkflowFailedError } from "../../errors.ts"
import { ApplicationFailure } from "../../failures.ts"
import { Worker, type WorkflowHistory } from "../../worker.ts"
import type { WorkflowFunction } from "../../workflow/internal/run.ts"
import { TestWorkflowEnvironment } from "../environment.ts"
import { type FaultCounts, type FaultSchedule, faultyStore } from "./faultyStore.ts"

export const TASK_QUEUE = "check"

/** How one activity attempt behaves: the generated part runs before the real function. */
export interface ActivityBehavior {
  /** `"ok"` runs the activity; the failures throw an injected `ApplicationFailure` of type `InjectedFailure` instead. */
  readonly outcome: "ok" | "retryableFailure" | "nonRetryableFailure"
  /** Real milliseconds to wait first (kept small: activities do not hold the virtual clock for long). */
  readonly latencyMs: number
  /** `Context.current().heartbeat()` calls made first. */
  readonly heartbeats: number
}

/** A client event, delivered at wait point `point` (0: once the workflow first waits). */
export type ClientEvent =
  | { readonly kind: "signal"; readonly point: number; readonly name: string; readonly args: ReadonlyArray<unknown>; readonly resend: boolean }
  | { readonly kind: "query"; readonly point: number; readonly name: string; readonly args: ReadonlyArray<unknown> }
  | { readonly kind: "cancel"; readonly point: number }

/** Everything generated for one case. */
export interface CheckCase {
  readonly args: ReadonlyArray<unknown>
  readonly events: ReadonlyArray<ClientEvent>
  /** Per activity type: scripts per call (indexed by the call's sequence number), each a list of attempt behaviours. */
  readonly behaviors: Readonly<Record<string, ReadonlyArray<ReadonlyArray<ActivityBehavior>>>>
  /** Timer lateness choices (ms), picked per timer by a hash of its identity. */
  readonly lateness: ReadonlyArray<number>
  readonly schedule: FaultSchedule
  /** Seeds the run id (and so the workflow's deterministic `Math.random` and `uuid4`). */
  readonly runSeed: number
}

/** What a run ended with. */
export type RunOutcome =
  | { readonly status: "completed"; readonly result: unknown }
  | { readonly status: "failed" | "cancelled" | "terminated" | "timedOut"; readonly error: WorkflowFailedError }
  | { readonly status: "running"; readonly reason: string }

/** A line marked on the timeline: an injected fault, a client event, a restart. */
export interface Marker {
  readonly workflowId: string
  /** Journal entries of that workflow committed before it. */
  readonly after: number
  readonly text: string
}

export interface ActivityInvocation {
  readonly workflowId: string
  readonly activityType: string
  readonly seq: number
  readonly attempt: number
}

export interface RunRecord {
  readonly outcome: RunOutcome
  /** Query answers and event deliveries, in order (compared across runs). */
  readonly observations: ReadonlyArray<string>
  readonly histories: ReadonlyArray<WorkflowHistory>
  readonly invocations: ReadonlyArray<ActivityInvocation>
  readonly markers: ReadonlyArray<Marker>
  readonly faults: FaultCounts
  /** Signals sent per name (resends included) that the store accepted. */
  readonly signalsSent: Readonly<Record<string, number>>
  /** Workflow task failures seen (a bug or non-determinism in workflow code). */
  readonly taskFailures: ReadonlyArray<string>
  readonly rootWorkflowId: string
  readonly rootRunId: string
}

export interface RunSettings {
  readonly workflowType: string
  readonly workflows: Readonly<Record<string, WorkflowFunction>>
  readonly activities: Readonly<Record<string, (...args: Array<any>) => unknown>>
  readonly faulty: boolean
  readonly evictions: boolean
  readonly duplicateSignals: boolean
  /** Timer waits after which a workflow still running is reported as running. */
  readonly maxWaits: number
  /** Real ms without store progress after which a run is declared stuck. */
  readonly stuckAfterMs: number
  readonly runId: string
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A small stable hash (FNV-1a) of a timer's identity, without run ids. */
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h
}

export const formatMs = (ms: number): string =>
  ms >= 86_400_000 ? `${+(ms / 86_400_000).toFixed(2)}d` : ms >= 3_600_000 ? `${+(ms / 3_600_000).toFixed(2)}h` : ms >= 60_000 ? `${+(ms / 60_000).toFixed(2)}m` : ms >= 1000 ? `${+(ms / 1000).toFixed(2)}s` : `${ms}ms`

/** What each injected fault means, for the timeline. */
export const FAULT_TEXT: Readonly<Record<string, string>> = {
  "commit duplicate": "duplicate delivery: the step's outgoing messages are delivered twice",
  "commit lostAck": "lost ack: the step commits but its message stays pending and is delivered again",
  "commit lostResponse": "lost commit reply: the step commits but the worker is told it lost a race (reload, replay)",
  "commit crash": "worker crash between read and commit: the step is lost, its message re-delivered",
  "commit storeError": "store error on commit (retried with backoff)",
  "complete duplicate": "duplicate delivery: an activity result is delivered twice",
  "complete lostAck": "lost ack: an activity result is recorded but its task re-delivered (the activity runs again)",
  "complete crash": "activity worker crash before reporting: the result is lost, the task re-delivered (the activity runs again)",
  "complete storeError": "store error reporting an activity result (retried)",
  "append duplicate": "duplicate delivery: a client message is appended twice (same id)",
  "read shuffle": "reordered delivery: a batch is shuffled",
  "read shuffleKeys": "reordered delivery: a batch's workflows are shuffled",
  "read redeliver": "duplicate delivery: a message is handed out again",
  "read delay": "slow read: a batch is held a few ms",
  "read storeError": "store error on read (retried with backoff)",
  "fire stall": "late timer loop: due timers fire a few ms late",
}

/** Which user-facing fault kind each injected fault belongs to. */
export const FAULT_KIND: Readonly<Record<string, string>> = {
  "commit duplicate": "duplicateDeliveries",
  "complete duplicate": "duplicateDeliveries",
  "append duplicate": "duplicateDeliveries",
  "read redeliver": "duplicateDeliveries",
  "commit lostAck": "lostAcks",
  "complete lostAck": "lostAcks",
  "commit lostResponse": "lostCommitReplies",
  "commit crash": "crashes",
  "complete crash": "crashes",
  "read shuffle": "reorderedDelivery",
  "read shuffleKeys": "reorderedDelivery",
  "read delay": "reorderedDelivery",
  "fire stall": "lateTimers",
  "timer late": "lateTimers",
  "commit storeError": "storeErrors",
  "complete storeError": "storeErrors",
  "read storeError": "storeErrors",
  "worker restart": "cacheEviction",
  "signal resent": "duplicateSignals",
}

const EMPTY_SCHEDULE: FaultSchedule = { commits: [], completes: [], appends: [], reads: [], timers: [], fires: [] }

/** Counts the journal entries each workflow has committed (to place markers on its timeline). */
const counting = (inner: StoreShape, journal: Map<string, number>, progress: { at: number }): StoreShape => ({
  ...inner,
  commit: (c) =>
    Effect.tap(inner.commit(c), () =>
      Effect.sync(() => {
        progress.at = Date.now()
        if (c.journal !== undefined) journal.set(c.key, (journal.get(c.key) ?? 0) + c.journal.entries.length)
      })),
  complete: (a, m) => Effect.tap(inner.complete(a, m), () => Effect.sync(() => void (progress.at = Date.now()))),
  append: (m) => Effect.tap(inner.append(m), () => Effect.sync(() => void (progress.at = Date.now()))),
})

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/** Run `c` once. */
export const runCase = async (c: CheckCase, settings: RunSettings): Promise<RunRecord> => {
  const journal = new Map<string, number>()
  const markers: Array<Marker> = []
  const faults: FaultCounts = {}
  const progress = { at: Date.now() }
  const rootWorkflowId = `${settings.workflowType}-1`
  const mark = (workflowId: string, text: string) => markers.push({ workflowId, after: journal.get(workflowId) ?? 0, text })
  const count = (kind: string) => void (faults[kind] = (faults[kind] ?? 0) + 1)
  let memory: MemoryStore | undefined
  const lateness = (timer: TimerEntry): number => {
    if (c.lateness.length === 0) return 0
    const late = c.lateness[hash(timer.id.replace(UUID, "")) % c.lateness.length]!
    if (late > 0) mark(timer.message.key, `⏱ timer fires ${formatMs(late)} late`)
    return late
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    logLevel: "None",
    store: { maxDeliveries: 1000 },
    wrapStore: (store) => {
      memory = store
      return faultyStore(counting(store, journal, progress), settings.faulty ? c.schedule : EMPTY_SCHEDULE, faults, {
        lateness,
        lostRepliesOnTimers: true,
        onFault: (fault, key) => mark(key === "" ? rootWorkflowId : key, `⚡ ${FAULT_TEXT[fault] ?? fault}`),
      })
    },
  })
  const runtime = env.connection.runtime as unknown as { runPromise: <A>(effect: Effect.Effect<A, unknown, never>) => Promise<A> }
  const invocations: Array<ActivityInvocation> = []
  const activities = wrapActivities(settings.activities, c, invocations)
  let workerCount = 0
  const startWorker = async () => {
    const worker = await Worker.create({
      connection: env.connection,
      taskQueue: TASK_QUEUE,
      workflows: settings.workflows,
      activities,
      identity: `check-${++workerCount}`,
      // No live run is kept: every step of the faulty run replays its history.
      ...(settings.evictions ? { maxCachedWorkflows: 0 } : {}),
    })
    const running = worker.run()
    running.catch(() => undefined)
    return { worker, running }
  }
  let current = await startWorker()
  const observations: Array<string> = []
  const signalsSent: Record<string, number> = {}
  const taskFailures: Array<string> = []
  const abandon = (promise: Promise<unknown>) => void promise.catch(() => undefined)
  let stuck = false

  /** Wait until nothing can progress without time passing (and nothing changed across two polls). */
  const settle = async (): Promise<void> => {
    let lastOps = -1
    let quietSince = Date.now()
    progress.at = Date.now()
    for (;;) {
      const snapshot = await runtime.runPromise(Effect.gen(function* () {
        const p = yield* memory!.progress
        const now = yield* memory!.now
        const next = Option.getOrUndefined(yield* memory!.nextTimerAt)
        return { ...p, due: next !== undefined && next <= now }
      }))
      const idle = snapshot.runnable === 0 && snapshot.running === 0 && snapshot.stranded === 0 && !snapshot.due
      if (snapshot.operations !== lastOps) {
        lastOps = snapshot.operations
        quietSince = Date.now()
      } else if (idle) {
        return
      } else if (Date.now() - Math.max(quietSince, progress.at) > settings.stuckAfterMs) {
        stuck = true
        throw new StuckError(`no progress for ${settings.stuckAfterMs} ms (real time): ${snapshot.runnable} workflow messages waiting or in progress, ${snapshot.running} activities running, ${snapshot.stranded} messages on queues no worker reads`)
      }
      await tick()
    }
  }

  try {
    await env.client.workflow.run(startWorkflow({
      workflowId: rootWorkflowId,
      runId: settings.runId,
      workflowType: settings.workflowType,
      taskQueue: TASK_QUEUE,
      args: encodeArgs(c.args, "checkWorkflow args"),
    }))
    const handle = env.client.workflow.getHandle(rootWorkflowId)
    const pending = [...c.events]
    let point = 0
    let waits = 0
    let running: string | undefined
    for (;;) {
      await settle()
      const description = await handle.describe()
      if (description.taskFailure !== undefined) {
        taskFailures.push(`${description.taskFailure.type}: ${description.taskFailure.message}`)
        running = "a workflow task failed"
        break
      }
      if (description.status !== "RUNNING") break
      const now = pending.filter((e) => e.point <= point)
      if (now.length > 0) {
        for (const event of now) {
          pending.splice(pending.indexOf(event), 1)
          await deliver(event)
          await settle()
        }
        continue
      }
      const next = await runtime.runPromise(Effect.map(memory!.nextTimerAt, Option.getOrUndefined))
      if (next === undefined) {
        if (pending.length === 0) {
          running = "waiting with no timer set and no client event left"
          break
        }
        point = Math.min(...pending.map((e) => e.point))
        continue
      }
      if (waits >= settings.maxWaits) {
        running = `still running after ${settings.maxWaits} timer waits`
        break
      }
      if (settings.evictions) {
        await current.worker.shutdown()
        await current.running
        count("worker restart")
        mark(rootWorkflowId, "⚡ cache eviction: the worker restarts (its next step replays the history)")
        current = await startWorker()
      }
      await env.sleep(Math.max(1, next - (await env.currentTimeMs())))
      waits++
      point++
    }
    for (const event of pending) observations.push(`${describeEvent(event)}: not delivered (the workflow had closed)`)

    async function deliver(event: ClientEvent): Promise<void> {
      const what = describeEvent(event)
      try {
        switch (event.kind) {
          case "signal": {
            mark(rootWorkflowId, `▶ ${what}`)
            await handle.signal(event.name, ...event.args)
            signalsSent[event.name] = (signalsSent[event.name] ?? 0) + 1
            observations.push(`${what}: delivered`)
            if (event.resend && settings.duplicateSignals && settings.faulty) {
              // The client did not hear back and retried: a second signal, with a new id.
              count("signal resent")
              mark(rootWorkflowId, `⚡ duplicate signal: the client retries "${event.name}" after a lost reply (a new signal id: HotMesh dedupes ids, not contents)`)
              await handle.signal(event.name, ...event.args)
              signalsSent[event.name] = (signalsSent[event.name] ?? 0) + 1
            }
            return
          }
          case "query": {
            const answer = await handle.query(event.name, ...event.args).then(
              (value) => `→ ${JSON.stringify(value)}`,
              (error: unknown) => `→ ${(error as Error).name}: ${(error as Error).message}`,
            )
            mark(rootWorkflowId, `▶ ${what} ${answer}`)
            observations.push(`${what} ${answer}`)
            return
          }
          case "cancel":
            mark(rootWorkflowId, `▶ ${what}`)
            await handle.cancel()
            observations.push(`${what}: delivered`)
            return
        }
      } catch (error) {
        observations.push(`${what}: ${(error as Error).name}: ${(error as Error).message}`)
      }
    }

    let outcome: RunOutcome
    if (running !== undefined) outcome = { status: "running", reason: running }
    else {
      outcome = await handle.result().then(
        (result) => ({ status: "completed" as const, result }),
        (error: unknown) => {
          if (!(error instanceof WorkflowFailedError)) throw error
          const status = (error.status ?? "FAILED").toLowerCase()
          return { status: (status === "timed_out" ? "timedOut" : status) as "failed", error }
        },
      )
    }
    const histories = await collectHistories(env, rootWorkflowId)
    return {
      outcome,
      observations,
      histories,
      invocations: [...invocations],
      markers,
      faults,
      signalsSent,
      taskFailures,
      rootWorkflowId,
      rootRunId: settings.runId,
    }
  } finally {
    if (stuck) {
      abandon(current.worker.shutdown())
      abandon(env.teardown())
    } else {
      await current.worker.shutdown()
      await current.running.catch(() => undefined)
      await env.teardown()
    }
  }
}

/** A run that made no progress: reported with what was pending. */
export class StuckError extends Error {
  override readonly name = "StuckError"
}

export const describeEvent = (event: ClientEvent): string =>
  event.kind === "cancel" ? `cancel (wait point ${event.point})` : `${event.kind} ${event.name} ${JSON.stringify(event.args)} (wait point ${event.point})`

/** The root's history and its children's, recursively. */
const collectHistories = async (env: TestWorkflowEnvironment, rootId: string): Promise<Array<WorkflowHistory>> => {
  const out: Array<WorkflowHistory> = []
  const seen = new Set<string>()
  const visit = async (workflowId: string): Promise<void> => {
    if (seen.has(workflowId)) return
    seen.add(workflowId)
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory().catch(() => undefined)
    if (history === undefined) return
    out.push(history)
    for (const entry of history.events as ReadonlyArray<JournalEntry>) if (entry.type === "ChildStartInitiated") await visit(entry.workflowId)
  }
  await visit(rootId)
  return out
}

/** Wrap each activity: record the invocation, then play its generated behaviour, then (if "ok") call it. */
const wrapActivities = (
  activities: Readonly<Record<string, (...args: Array<any>) => unknown>>,
  c: CheckCase,
  invocations: Array<ActivityInvocation>,
): Record<string, (...args: Array<any>) => Promise<unknown>> =>
  Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, async (...args: Array<any>): Promise<unknown> => {
    const context = Context.current()
    const { workflowId, activityId, attempt } = context.info
    const seq = Number(activityId)
    invocations.push({ workflowId, activityType: name, seq, attempt })
    const scripts = c.behaviors[name] ?? []
    const behavior = scripts.length === 0 ? undefined : scripts[(seq - 1) % scripts.length]![attempt - 1]
    if (behavior !== undefined) {
      if (behavior.latencyMs > 0) await new Promise<void>((resolve) => setTimeout(resolve, behavior.latencyMs))
      for (let i = 0; i < behavior.heartbeats; i++) context.heartbeat(i)
      if (behavior.outcome === "retryableFailure") throw ApplicationFailure.retryable(`injected failure of ${name} (attempt ${attempt})`, "InjectedFailure")
      if (behavior.outcome === "nonRetryableFailure") throw ApplicationFailure.nonRetryable(`injected non-retryable failure of ${name} (attempt ${attempt})`, "InjectedFailure")
    }
    return await fn(...args)
  }]))
