/**
 * Which workflow run (and cancellation scope) the running code belongs to.
 *
 * Workflow code is plain async code; `AsyncLocalStorage` carries the run
 * across its awaits, so many workflows can be resumed concurrently in one
 * process and each durable call finds its own run.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import type { CancellationScope } from "../cancellation.ts"
import type { WorkflowRun } from "./run.ts"

/** What the workflow API needs to know about the caller. */
export interface WorkflowContext {
  readonly run: WorkflowRun
  readonly scope: CancellationScope
  /** Inside an update's validator or handler: which update (`currentUpdateInfo()`). */
  readonly update?: UpdateInfo
}

/** Temporal's `UpdateInfo`: the update a handler is running for. */
export interface UpdateInfo {
  readonly id: string
  readonly name: string
}

/** The storage; internal. */
export const storage = new AsyncLocalStorage<WorkflowContext>()

/** The caller's workflow context; throws a clear error outside workflow code. */
export const current = (api: string): WorkflowContext => {
  const context = storage.getStore()
  if (context === undefined) {
    throw new Error(`${api}() can only be called from workflow code (inside a workflow function run by a Worker)`)
  }
  return context
}
