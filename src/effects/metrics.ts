/**
 * What the interpreter reports to a metrics backend: a small sink of plain
 * callbacks, looked up once per loop (never per step), whose default does
 * nothing. The SDK provides a Prometheus one per connection
 * (`src/sdk/metrics.ts`); core never sees it.
 *
 * Times are seconds (Prometheus' unit); "schedule-to-start" is measured by
 * the store's clock where the message says when it was appended or
 * scheduled, and is omitted where it does not.
 */
import { Context } from "effect"

/** The loops that make durable steps. */
export type StepKind = "workflow" | "activity" | "timer"

/** How an activity attempt ended, as this worker saw it. */
export type ActivityOutcome = "completed" | "failed" | "async" | "abandoned"

/** The interpreter's metric events. */
export interface MetricsSink {
  /** Whether anything listens (false: callers may skip measuring). */
  readonly enabled: boolean
  /** A durable step committed: `seconds` from the start of its processing to the end of its commit. */
  readonly step: (kind: StepKind, taskQueue: string, seconds: number) => void
  /** A workflow task ran the workflow's code (`failed`: the task failed and will be retried). */
  readonly workflowTask: (taskQueue: string, workflowType: string, scheduleToStartSeconds: number | undefined, executionSeconds: number, failed: boolean) => void
  /** An activity attempt started on this worker. */
  readonly activityStarted: (taskQueue: string, activityType: string, scheduleToStartSeconds: number | undefined, attempt: number) => void
  /** An activity attempt's function returned or threw. */
  readonly activityFinished: (taskQueue: string, activityType: string, executionSeconds: number, outcome: ActivityOutcome) => void
  /** One pass of the timer loop fired `count` timers, the earliest `latenessSeconds` after its time (store clock). */
  readonly timersFired: (count: number, latenessSeconds: number) => void
  /** A message went to the dead letters (by this worker: undecodable). */
  readonly deadLettered: (taskQueue: string, kind: "workflow" | "activity") => void
  /** A commit lost an optimistic-concurrency race (it is recomputed). */
  readonly commitConflict: () => void
  /** A store operation failed (it is retried). */
  readonly storeError: (operation: string) => void
}

const ignore = (): void => undefined

/** The default: nothing measured. */
export const noMetrics: MetricsSink = {
  enabled: false,
  step: ignore,
  workflowTask: ignore,
  activityStarted: ignore,
  activityFinished: ignore,
  timersFired: ignore,
  deadLettered: ignore,
  commitConflict: ignore,
  storeError: ignore,
}

/** The metrics sink of the running program (default `noMetrics`). */
export const Metrics = Context.Reference<MetricsSink>("hotmesh/Metrics", { defaultValue: () => noMetrics })
