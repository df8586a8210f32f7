import { activityInfo, ApplicationFailure, cancelled } from "hotmesh/activity"

/** What the local activities tell the test. */
export interface Hooks {
  /** Calls of each activity so far, counted by the activity. */
  readonly calls: Map<string, number>
  /** What `describe()` shows of the run's pending activities while `inspect` runs. */
  readonly pendingWhileRunning: (workflowId: string) => Promise<number>
  /** Names the worker whose activities these are (`whoRuns`). */
  readonly worker?: string
  /** `blockOnce` started its first call; it ends when the returned promise does. */
  readonly onBlocked: () => Promise<void>
}

export const createActivities = (hooks: Hooks) => {
  const count = (name: string): number => {
    const n = (hooks.calls.get(name) ?? 0) + 1
    hooks.calls.set(name, n)
    return n
  }
  let inFlight = 0
  let maxInFlight = 0
  let arrived = 0
  let allArrived: () => void = () => undefined
  const barrier = new Promise<void>((resolve) => (allArrived = resolve))
  return {
    async greet(name: string): Promise<string> {
      count("greet")
      const info = activityInfo()
      return `hello ${name} (local: ${info.isLocal}, attempt ${info.attempt}, type ${info.activityType})`
    },

    /** Fails until its third attempt. */
    async flaky(): Promise<string> {
      count("flaky")
      const { attempt } = activityInfo()
      if (attempt < 3) throw ApplicationFailure.retryable(`attempt ${attempt} failed`, "Flaky")
      return `ok on attempt ${attempt}`
    },

    /** Fails its first attempt; the second reports how many pending activities the store shows for its run. */
    async inspect(): Promise<number> {
      count("inspect")
      const { attempt, workflowExecution } = activityInfo()
      if (attempt === 1) throw ApplicationFailure.retryable("first attempt fails", "Flaky")
      return hooks.pendingWhileRunning(workflowExecution.workflowId)
    },

    /** Runs until it is cancelled (its deadline passes). */
    async hang(): Promise<string> {
      count("hang")
      await cancelled()
      return "never"
    },

    async whoRuns(): Promise<string> {
      return `${activityInfo().isLocal ? "local" : "remote"} on ${hooks.worker ?? "?"}`
    },

    async failHard(): Promise<string> {
      count("failHard")
      throw ApplicationFailure.nonRetryable("card declined", "CardDeclined")
    },

    /** Its first call blocks until the test lets it go; later calls return at once. */
    async blockOnce(): Promise<string> {
      const n = count("blockOnce")
      if (n === 1) await hooks.onBlocked()
      return `call ${n}`
    },

    /** Counts how many calls run at once; `waitFor` calls wait until that many have started. */
    async concurrent(waitFor: number): Promise<number> {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      if (++arrived >= waitFor) allArrived()
      if (waitFor > 1) await barrier
      await Promise.resolve()
      inFlight--
      return maxInFlight
    },
  }
}
