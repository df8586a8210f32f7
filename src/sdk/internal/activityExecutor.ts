/**
 * The worker's `ActivityExecutor`: look up the activity function, run it with
 * its `Context`, and turn its outcome into data.
 */
import type { ActivityTask, TaskToken } from "../../core/messages.ts"
import { decode, decodeArgs, encode } from "../../core/payload.ts"
import type { ActivityExecutor, ActivityOutcome } from "../../effects/executors.ts"
import { CompleteAsyncError, Context } from "../activity/index.ts"
import { ApplicationFailure, toFailureInfo } from "../failures.ts"
import type { PayloadGuard } from "./payloadGuard.ts"
import { type ActivityInboundCallsInterceptor, type ActivityInterceptorsFactory, composeInterceptors } from "../interceptors.ts"

/** Activity implementations by name. */
export type Activities = Readonly<Record<string, (...args: Array<any>) => unknown>>

/**
 * A payload over the limit, as the non-retryable `ApplicationFailure` of type
 * `PayloadSizeLimitError` that fails the attempt (Temporal records an
 * oversize activity result as a non-retryable failure of the activity).
 */
const sizeFailure = (error: unknown): ApplicationFailure =>
  ApplicationFailure.nonRetryable((error as Error).message, "PayloadSizeLimitError")

/**
 * The bytes of an attempt's `taskToken`: what routes an outcome back to it
 * (workflow, run, call, attempt, the workflow's task queue, namespace), as JSON.
 */
const taskToken = (task: ActivityTask, namespace: string): Uint8Array =>
  new TextEncoder().encode(
    JSON.stringify({
      namespace,
      workflowId: task.workflowId,
      runId: task.runId,
      workflowTaskQueue: task.workflowTaskQueue,
      seq: task.seq,
      attempt: task.attempt,
    } satisfies TaskToken),
  )

/**
 * Build the executor for one worker's activities, for `taskQueue` in
 * `namespace`; `payloads` applies the connection's size limits to results and
 * heartbeat details.
 */
export const makeActivityExecutor = (
  activities: Activities,
  taskQueue: string,
  namespace: string,
  payloads?: PayloadGuard,
  interceptors: ReadonlyArray<ActivityInterceptorsFactory> = [],
): ActivityExecutor => ({
  run: async (task, cancellation, heartbeat): Promise<ActivityOutcome> => {
    const fn = activities[task.activityType]
    if (typeof fn !== "function") {
      return {
        ok: false,
        failure: {
          kind: "application",
          type: "NotFoundError",
          message: `Activity function ${task.activityType} is not registered on this worker (task queue ${taskQueue}); registered: ${Object.keys(activities).join(", ") || "none"}`,
        },
      }
    }
    // The token's bytes are made when read (most activities never read them).
    let token: Uint8Array | undefined
    const context = new Context(
      () => ({
        activityType: task.activityType,
        activityId: String(task.seq),
        attempt: task.attempt,
        workflowId: task.workflowId,
        workflowRunId: task.runId,
        workflowExecution: { workflowId: task.workflowId, runId: task.runId },
        workflowType: task.workflowType,
        workflowNamespace: namespace,
        taskQueue,
        scheduledTimestampMs: task.scheduledAt,
        currentAttemptScheduledTimestampMs: task.attemptScheduledAt ?? task.scheduledAt,
        isLocal: task.local === true,
        get taskToken() {
          return (token ??= taskToken(task, namespace))
        },
        ...(task.deadline === undefined ? {} : { deadline: task.deadline }),
        ...(task.startToCloseMs === undefined ? {} : { startToCloseTimeoutMs: task.startToCloseMs }),
        ...(task.scheduleToCloseMs === undefined ? {} : { scheduleToCloseTimeoutMs: task.scheduleToCloseMs }),
        ...(task.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: task.heartbeatTimeoutMs }),
        idempotencyKey: `${task.workflowId}-${task.runId}-${task.seq}`,
        heartbeatDetails: decode(task.heartbeatDetails),
      }),
      cancellation,
      (details) => {
        const encoded = encode(details, `heartbeat details of activity ${task.activityType}`)
        try {
          payloads?.check([encoded], `heartbeat details of activity ${task.activityType}`)
        } catch (error) {
          throw sizeFailure(error)
        }
        heartbeat(encoded)
      },
    )
    try {
      const value = await Context.run(context, () => {
        const args = decodeArgs(task.args)
        if (interceptors.length === 0) return fn.apply(activities, args)
        const inbound = interceptors.map((factory) => factory(context).inbound).filter((interceptor): interceptor is ActivityInboundCallsInterceptor => interceptor !== undefined)
        const execute = composeInterceptors(inbound, "execute", async (input) => fn.apply(activities, [...input.args]))
        return execute({ args, headers: { ...task.headers } })
      })
      let result
      try {
        result = encode(value, `result of activity ${task.activityType}`)
      } catch (error) {
        return { ok: false, failure: { ...toFailureInfo(error), type: "DataConverterError", nonRetryable: true } }
      }
      try {
        payloads?.check([result], `result of activity ${task.activityType}`)
      } catch (error) {
        return { ok: false, failure: toFailureInfo(sizeFailure(error)) }
      }
      return { ok: true, result }
    } catch (error) {
      return error instanceof CompleteAsyncError ? { ok: "async" } : { ok: false, failure: toFailureInfo(error) }
    }
  },
})
