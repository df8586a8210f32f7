/**
 * Local activities (Temporal's `proxyLocalActivities`): attempts the
 * workflow worker runs itself, in the step that scheduled them, instead of
 * sending them to the activity stream. Each attempt's outcome comes back as
 * the workflow message an activity worker would have sent
 * (`ActivityCompleted`/`ActivityFailed`, or the attempt's `activityTimeout`
 * timer firing when its deadline passed), which the step reduces before it
 * commits — so the outcome is recorded once, in the commit of the step that
 * ran it, or not at all (a crash before the commit runs it again).
 */
import { type Clock, Effect, type Semaphore } from "effect"
import { describeFailure } from "../core/failure.ts"
import type { ActivityTask, WorkflowMessage } from "../core/messages.ts"
import { type ActivityExecutor, type ActivityOutcome, Cancellation } from "./executors.ts"

/** What a workflow-task loop runs local activities with. */
export interface LocalActivities {
  /** The worker's activities (the same executor its activity loop uses). */
  readonly executor: ActivityExecutor
  /** Local attempts running at once in this loop (Temporal's `maxConcurrentLocalActivityExecutions`). */
  readonly permits: Semaphore.Semaphore
}

const noHeartbeat = (): void => undefined

/**
 * Wait `ms` of real time. A local attempt runs in this process, in real time
 * (as a remote activity does); under a virtual clock (the time-skipping test
 * environment) an `Effect.sleep` here would wait for a jump that the step in
 * progress holds back.
 */
const sleepRealMs = (ms: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(timer))
  })

const messageOf = (task: ActivityTask, outcome: ActivityOutcome | "timedOut"): WorkflowMessage => {
  const at = { runId: task.runId, seq: task.seq, attempt: task.attempt }
  if (outcome === "timedOut") return { type: "TimerFired", runId: task.runId, timer: { kind: "activityTimeout", ...at } }
  if (outcome.ok === true) return { type: "ActivityCompleted", ...at, result: outcome.result }
  if (outcome.ok === false) return { type: "ActivityFailed", ...at, failure: outcome.failure }
  return {
    type: "ActivityFailed",
    ...at,
    failure: { kind: "application", type: "IllegalStateError", message: `local activity ${task.activityType} threw CompleteAsyncError: local activities cannot complete asynchronously`, nonRetryable: true },
  }
}

/**
 * Run one local attempt: wait for its start (an in-process retry backoff),
 * hold a permit, and run it until it settles or its deadline passes (then its
 * `cancellationSignal` aborts and the outcome is its timeout). Times are by
 * the store's clock: the local clock plus `clockOffset`.
 */
export const runLocalAttempt = (
  local: LocalActivities | undefined,
  task: ActivityTask,
  runAt: number,
  clock: Clock.Clock,
  clockOffset: number,
): Effect.Effect<WorkflowMessage> =>
  Effect.gen(function* () {
    const wait = runAt - (clock.currentTimeMillisUnsafe() + clockOffset)
    if (wait > 0) yield* sleepRealMs(wait)
    if (local === undefined) {
      return messageOf(task, { ok: false, failure: { kind: "application", type: "NotFoundError", message: `no activities to run local activity ${task.activityType} with`, nonRetryable: true } })
    }
    const attempt = Effect.gen(function* () {
      const cancellation = new Cancellation()
      const run = Effect.promise(() => local.executor.run(task, cancellation, noHeartbeat)).pipe(
        Effect.onInterrupt(() => Effect.sync(() => cancellation.abort(new Error("Worker shutting down")))),
      )
      const remaining = task.deadline === undefined ? Infinity : task.deadline - (clock.currentTimeMillisUnsafe() + clockOffset)
      const outcome: ActivityOutcome | "timedOut" = remaining === Infinity
        ? yield* run
        : yield* Effect.raceFirst(run, Effect.as(sleepRealMs(Math.max(0, remaining)), "timedOut" as const))
      if (outcome === "timedOut") cancellation.abort(new Error("Activity deadline passed"))
      else if (outcome.ok === false) {
        const line = `local activity ${task.activityType} (workflow ${task.workflowId}, attempt ${task.attempt}) failed: ${describeFailure(outcome.failure)}`
        yield* outcome.failure.category === "BENIGN" ? Effect.logDebug(line) : Effect.logWarning(line)
      }
      return messageOf(task, outcome)
    })
    return yield* local.permits.withPermits(1)(attempt)
  })
