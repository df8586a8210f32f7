/**
 * Batch operations (`workflow signal|cancel|terminate -q QUERY`): count what
 * the query selects, confirm, apply the operation to each execution with a
 * progress bar on stderr, and summarize what succeeded and what failed.
 */
import { SingleBar } from "cli-progress"
import type { Client } from "../sdk/client.ts"
import { CliError, confirm, type GlobalOptions, print, table } from "./context.ts"

/** How many executions a batch works on at once. */
const CONCURRENCY = 8

/** What a batch reports (`--output json`). */
export interface BatchSummary {
  readonly operation: string
  readonly query: string
  readonly matched: number
  readonly succeeded: number
  readonly failed: ReadonlyArray<{ readonly workflowId: string; readonly error: string }>
}

/**
 * Apply `operation` to every execution `query` selects, after confirmation.
 * Fails (exit 1) after the summary when any execution failed.
 */
export const runBatch = async (
  client: Client,
  globals: GlobalOptions,
  /** What is done, imperative and past: `["terminate", "terminated"]`. */
  [verb, done]: readonly [string, string],
  query: string,
  yes: boolean | undefined,
  operation: (workflowId: string) => Promise<void>,
): Promise<void> => {
  const { count } = await client.workflow.count(query)
  if (count === 0) {
    print(globals, { operation: done, query, matched: 0, succeeded: 0, failed: [] } satisfies BatchSummary, () => `no executions match ${JSON.stringify(query)}`)
    return
  }
  await confirm(`${count === 1 ? "1 execution matches" : `${count} executions match`} ${JSON.stringify(query)}: ${verb} ${count === 1 ? "it" : "them"}?`, yes)
  // The ids first: acting on executions while paging through the index could move them between pages.
  const ids: Array<string> = []
  for await (const info of client.workflow.list({ query, pageSize: 500 })) ids.push(info.workflowId)
  const bar = new SingleBar({ stream: process.stderr, format: `${done} {bar} {value}/{total}`, hideCursor: true })
  bar.start(ids.length, 0)
  const failed: Array<{ workflowId: string; error: string }> = []
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const workflowId = ids[next++]!
      try {
        await operation(workflowId)
      } catch (error) {
        failed.push({ workflowId, error: error instanceof Error ? error.message.split("\n")[0]! : String(error) })
      }
      bar.increment()
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, lane))
  bar.stop()
  const summary: BatchSummary = { operation: done, query, matched: ids.length, succeeded: ids.length - failed.length, failed }
  print(globals, summary, () =>
    `${done} ${summary.succeeded} of ${summary.matched}` + (failed.length === 0 ? "" : `; ${failed.length} failed:\n${table(["WorkflowId", "Error"], failed.map((f) => [f.workflowId, f.error]))}`))
  if (failed.length > 0) throw new CliError(`${failed.length} of ${summary.matched} could not be ${done}`)
}
