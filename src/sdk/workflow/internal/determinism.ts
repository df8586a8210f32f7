/**
 * Deterministic time and randomness inside workflow code, like Temporal's
 * sandbox: while code runs on behalf of a workflow run (the workflow context
 * is set), `Date.now()`, `new Date()` and `Math.random()` return the
 * activation's journaled time and the run's seeded PRNG. Everywhere else —
 * activities, your application — they are untouched.
 *
 * Installed once, by the first `Worker` of the process (not on import).
 */
import { storage } from "./context.ts"

let installed = false

/** Patch `Date` and `Math.random` to be deterministic inside workflow code. Idempotent. */
export const installDeterminism = (): void => {
  if (installed) return
  installed = true
  const RealDate = Date
  const realNow = Date.now.bind(Date)
  const realRandom = Math.random.bind(Math)
  const workflowNow = (): number | undefined => storage.getStore()?.run.info.currentTime.getTime()
  const DeterministicDate = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      if (args.length === 0) {
        const now = workflowNow()
        if (now !== undefined) return Reflect.construct(target, [now], newTarget)
      }
      return Reflect.construct(target, args, newTarget)
    },
    apply(target, thisArg, args) {
      const now = workflowNow()
      return now === undefined ? Reflect.apply(target, thisArg, args) : new RealDate(now).toString()
    },
  })
  RealDate.now = () => workflowNow() ?? realNow()
  globalThis.Date = DeterministicDate
  Math.random = () => storage.getStore()?.run.random() ?? realRandom()
}
