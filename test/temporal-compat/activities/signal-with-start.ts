/** Activities of the signal-with-start test: each cron run reports its items to the test through `onRun`. */
export interface CartReport {
  readonly runId: string
  readonly cronSchedule: string | undefined
  readonly items: ReadonlyArray<string>
}

/** Set by a test to hear every run. */
export const listener: { onRun: (report: CartReport) => void } = { onRun: () => undefined }

export async function reportItems(report: CartReport): Promise<void> {
  listener.onRun(report)
}
