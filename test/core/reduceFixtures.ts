/**
 * Small builders for the reducer table tests: a run's state in a given
 * situation, the messages that reach it, and the commands it emits.
 */
import { expect } from "vitest"
import type { Job } from "../../src/core/journal.ts"
import type { ActivityOptionsResolved, ParentRef, TimerPurpose, WorkflowMessage } from "../../src/core/messages.ts"
import type { Command, Transition } from "../../src/core/reduce.ts"
import { resolveRetryPolicy } from "../../src/core/retry.ts"
import { type ActivityState, type ChildState, type ExecutionState, initialState } from "../../src/core/state.ts"

/** When the run started. */
export const T0 = 1_700_000_000_000
/** "Now" of most steps: 5 s after the start. */
export const T1 = T0 + 5000

export const RUN = { workflowId: "wf", runId: "r1", workflowType: "order", taskQueue: "q", args: ['"a"'] }
export const PARENT: ParentRef = { workflowId: "parent", runId: "pr", taskQueue: "pq", seq: 4 }

/** 1 s doubling, 3 attempts, `CardDeclined` is final. */
export const RETRY = resolveRetryPolicy({ initialInterval: "1s", maximumAttempts: 3, nonRetryableErrorTypes: ["CardDeclined"] })

/** Activity options with no timeout unless given. */
export const options = (patch: Partial<ActivityOptionsResolved> = {}): ActivityOptionsResolved => ({ taskQueue: "acts", retry: RETRY, ...patch })

/** Attempt 1 of `charge`, dispatched at T0 with a 10 s start-to-close timeout. */
export const activity = (patch: Partial<ActivityState> = {}): ActivityState => ({
  activityType: "charge",
  args: ["1"],
  options: options({ startToCloseMs: 10_000 }),
  attempt: 1,
  scheduledAt: T0,
  dispatched: true,
  ...patch,
})

/** Child `kid` (type `ship`) started as seq 3. */
export const child = (patch: Partial<ChildState> = {}): ChildState => ({ workflowId: "kid", workflowType: "ship", taskQueue: "cq", runId: "r1.3", ...patch })

/** A started run that completed its first task (journal: WorkflowStarted). */
export const running = (patch: Partial<ExecutionState> = {}): ExecutionState => ({
  ...initialState(RUN, T0),
  started: true,
  tasks: 1,
  journalLength: 1,
  ...patch,
})

/** A run that completed at T0 + 1. */
export const closed = (patch: Partial<ExecutionState> = {}): ExecutionState =>
  running({ status: "COMPLETED", closeTime: T0 + 1, result: '"done"', ...patch })

/** A job queued before the step under test. */
export const earlierJob: Job = { type: "SignalReceived", at: T0 + 1, name: "earlier", args: [] }

/** The `Start` message of run r1 (or of another run). */
export const startMessage = (patch: Partial<Extract<WorkflowMessage, { type: "Start" }>> = {}): WorkflowMessage => ({
  type: "Start",
  ...RUN,
  ...patch,
})

/** The store id of one of r1's timers. */
export const timerId = (suffix: string): string => `wf:r1:${suffix}`

/** A SetTimer command of run r1. */
export const setTimer = (suffix: string, fireAt: number, timer: TimerPurpose): Command => ({
  type: "SetTimer",
  id: timerId(suffix),
  fireAt,
  taskQueue: "q",
  key: "wf",
  message: { type: "TimerFired", runId: "r1", timer },
})

/** A CancelTimer command of run r1. */
export const cancelTimer = (suffix: string): Command => ({ type: "CancelTimer", id: timerId(suffix) })

/** A message to the parent of r1. */
export const toParent = (message: WorkflowMessage): Command => ({ type: "SendWorkflow", taskQueue: "pq", key: "parent", message })

/** The transition left `state` exactly as it was and asked for nothing. */
export const expectUnchanged = (transition: Transition, state: ExecutionState | undefined): void => {
  expect(transition.state).toBe(state)
  expect(transition).toStrictEqual({ state, journal: [], commands: [], activate: false, closed: false })
}
