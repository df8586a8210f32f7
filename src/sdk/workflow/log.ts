/**
 * `log` for workflow code (Temporal's workflow `log`): replay-aware — silent
 * while a worker replays recorded history, so each line is written once per
 * execution of the code that reached it — and tagged with the run's
 * `namespace`, `taskQueue`, `workflowId`, `runId` and `workflowType` (and
 * what the outbound interceptors' `getLogAttributes` add).
 *
 * The entry is handed to the logger outside the workflow's context, so a
 * logger may read the real clock (the deterministic `Date` shim and the
 * non-determinism detector apply to workflow code only).
 */
import { emit, type LeveledLog, leveledLog } from "../internal/log.ts"
import { composeInterceptors } from "../interceptors.ts"
import { current, storage } from "./internal/context.ts"

/** Workflow code's logger: `log.info("charged", { orderId })`. */
export const log: LeveledLog = leveledLog(
  () => {
    const { run } = current("log")
    if (run.replaying) return undefined
    const { namespace, taskQueue, workflowId, runId, workflowType } = run.info
    const base = { sdkComponent: "workflow", namespace, taskQueue, workflowId, runId, workflowType }
    return run.outbound.length === 0 ? base : composeInterceptors(run.outbound, "getLogAttributes", (input) => input)(base)
  },
  (level, message, meta) => storage.exit(() => emit(level, message, meta)),
)
