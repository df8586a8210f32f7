/** Benchmark activities: trivial, so the runtime's own cost is what is measured. */
export async function step(value: number): Promise<number> {
  return value + 1
}

/**
 * Wakes recorded by `recordWake` (real time, in this process): the timer
 * bench reads them instead of waiting on thousands of `result()` calls, whose
 * polling would load the store while the timers fire.
 */
export const wakes: Array<{ readonly workflowId: string; readonly scheduledAt: number; readonly wokeAt: number }> = []

/** Record the real `Date.now()` after a durable sleep that was due at `scheduledAt`; returns the lateness in ms. */
export async function recordWake(workflowId: string, scheduledAt: number): Promise<number> {
  const wokeAt = Date.now()
  wakes.push({ workflowId, scheduledAt, wokeAt })
  return wokeAt - scheduledAt
}
