/** Activities of the child-workflow options test: each cron run reports itself to the test through `onRun`. */
export interface RunReport {
  readonly workflowId: string
  readonly runId: string
  readonly cronSchedule: string | undefined
  readonly parentWorkflowId: string | undefined
}

/** Set by a test to hear every run. */
export const listener: { onRun: (report: RunReport) => void } = { onRun: () => undefined }

export async function reportRun(report: RunReport): Promise<void> {
  listener.onRun(report)
}
