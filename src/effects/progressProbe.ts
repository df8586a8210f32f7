/**
 * A testing seam: what the interpreter tells a time-skipping test
 * environment about work that must hold its virtual clock still — a store
 * retry waiting out its backoff (real time), and callers waiting for a
 * workflow's result (the reason to skip time at all).
 *
 * A production runtime never provides it and gets the default, which does
 * nothing; `TestWorkflowEnvironment` provides a counting one in its own
 * runtime. Nothing here is process-global.
 */
import { Context, Effect } from "effect"

/** Receives the interpreter's notices. */
export interface ProgressProbe {
  /** A store retry started (+1) or ended (-1) its real-time backoff. */
  readonly storeBackoff: (delta: 1 | -1) => void
  /** A caller started (+1) or stopped (-1) waiting for a workflow to close. */
  readonly resultWaiter: (delta: 1 | -1) => void
}

const NOTHING: ProgressProbe = { storeBackoff: () => {}, resultWaiter: () => {} }

/** The probe of the current runtime (by default: none). */
export const ProgressProbe = Context.Reference<ProgressProbe>("hotmesh/ProgressProbe", { defaultValue: () => NOTHING })

/** A probe that counts, for a test environment. */
export class CountingProbe implements ProgressProbe {
  backingOff = 0
  waitingForResults = 0
  readonly storeBackoff = (delta: 1 | -1): void => {
    this.backingOff += delta
  }
  readonly resultWaiter = (delta: 1 | -1): void => {
    this.waitingForResults += delta
  }
}

/** Run `effect` counted as a result waiter on the runtime's probe. */
export const asResultWaiter = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(ProgressProbe, (probe) =>
    Effect.acquireUseRelease(Effect.sync(() => probe.resultWaiter(1)), () => effect, () => Effect.sync(() => probe.resultWaiter(-1))))
