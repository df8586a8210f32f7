/** Activities of the cron tests: each run reports itself to the test through `onRun`. */
export interface RunReport {
  readonly runId: string
  readonly at: number
  readonly cronSchedule: string | undefined
}

/** Set by a test to hear every run. */
export const listener: { onRun: (report: RunReport) => void } = { onRun: () => undefined }

export async function reportRun(report: RunReport): Promise<void> {
  listener.onRun(report)
}
