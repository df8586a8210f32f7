import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  condition,
  defineSignal,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from "hotmesh/workflow"
import type { createActivities } from "../activities/local-activities.ts"

type Activities = ReturnType<typeof createActivities>

const local = proxyLocalActivities<Activities>({ startToCloseTimeout: "1 minute", retry: { initialInterval: "10 ms", maximumAttempts: 3 } })
const remote = proxyActivities<Activities>({ startToCloseTimeout: "1 minute" })

export const goSignal = defineSignal("go")

/** The failure's chain as names: `ActivityFailure > TimeoutFailure(START_TO_CLOSE)`. */
const explain = (err: unknown): string => {
  if (!(err instanceof ActivityFailure)) throw err
  const cause = err.cause as (Error & { timeoutType?: string; type?: string }) | undefined
  return `${err.name} > ${cause?.name}(${cause?.timeoutType ?? cause?.type ?? ""}): ${cause?.message}`
}

export async function greetLocally(name: string): Promise<string> {
  return await local.greet(name)
}

/** The same call, scheduled as a remote activity: replaying a local history with it is a determinism violation. */
export async function greetRemotely(name: string): Promise<string> {
  return await remote.greet(name)
}

/** Two local activities around a signal, so the run has several steps (and replays between them without a cache). */
export async function greetTwice(name: string): Promise<string> {
  const first = await local.greet(name)
  let go = false
  setHandler(goSignal, () => void (go = true))
  await condition(() => go)
  const second = await local.greet(`${name} again`)
  return `${first} / ${second}`
}

export async function retryLocally(): Promise<string> {
  return await local.flaky()
}

/** A backoff (200 ms) beyond `localRetryThreshold` (1 ms): the retry waits on a durable timer. */
export async function retryByTimer(): Promise<number> {
  const { inspect } = proxyLocalActivities<Activities>({ startToCloseTimeout: "1 minute", localRetryThreshold: 1, retry: { initialInterval: "200 ms", maximumAttempts: 2 } })
  return await inspect()
}

/** The same within the threshold: the retry runs in the step, before anything is committed. */
export async function retryWithinThreshold(): Promise<number> {
  const { inspect } = proxyLocalActivities<Activities>({ startToCloseTimeout: "1 minute", localRetryThreshold: "1 minute", retry: { initialInterval: "10 ms", maximumAttempts: 2 } })
  return await inspect()
}

export async function timeOutLocally(): Promise<string> {
  const { hang } = proxyLocalActivities<Activities>({ startToCloseTimeout: "150 ms", retry: { maximumAttempts: 1 } })
  try {
    return await hang()
  } catch (err) {
    return explain(err)
  }
}

export async function timeOutSchedule(): Promise<string> {
  const { hang } = proxyLocalActivities<Activities>({ scheduleToCloseTimeout: "250 ms", retry: { initialInterval: "10 ms" } })
  try {
    return await hang()
  } catch (err) {
    return explain(err)
  }
}

export async function failLocally(): Promise<string> {
  try {
    return await local.failHard()
  } catch (err) {
    return explain(err)
  }
}

export async function callUnregistered(): Promise<string> {
  const { missing } = proxyLocalActivities<{ missing(): Promise<string> }>({ startToCloseTimeout: "1 minute", retry: { maximumAttempts: 1 } })
  try {
    return await missing()
  } catch (err) {
    return explain(err)
  }
}

export async function blockLocally(): Promise<string> {
  return await local.blockOnce()
}

/** `n` local activities at once; resolves to the most that ran together. */
export async function runConcurrently(n: number, waitFor: number): Promise<number> {
  const results = await Promise.all(Array.from({ length: n }, () => local.concurrent(waitFor)))
  return Math.max(...results)
}

/** A local call cancelled in the activation that made it: it never runs, and the call ends cancelled. */
export async function cancelLocalAtOnce(cancellationType: ActivityCancellationType): Promise<string> {
  const { greet } = proxyLocalActivities<Activities>({ startToCloseTimeout: "1 minute", cancellationType })
  const scope = new CancellationScope()
  const call = scope.run(() => greet("nobody"))
  scope.cancel()
  try {
    return await call
  } catch (err) {
    return isCancellation(err) ? `cancelled (${(err as Error).name})` : explain(err)
  }
}

/** A local and a remote call of the same activity: which worker ran each. */
export async function localAndRemote(): Promise<string> {
  return `${await local.whoRuns()} / ${await remote.whoRuns()}`
}
