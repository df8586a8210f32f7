/**
 * The fault-injecting store decorator lives in `src/sdk/testing/internal/faultyStore.ts`
 * (shared with `checkWorkflow`); this module binds its schedule arbitrary to
 * the property tests' fast-check.
 */
import fc from "fast-check"
import { faultScheduleArb as faultScheduleArbWith, type FaultKinds, type FaultSchedule } from "../../src/sdk/testing/internal/faultyStore.ts"

export {
  type CommitFault,
  type CompleteFault,
  type FaultCounts,
  type FaultKinds,
  type FaultSchedule,
  faultyStore,
  type FaultyStoreOptions,
  type ReadFault,
} from "../../src/sdk/testing/internal/faultyStore.ts"

/** Fault schedules; `storeErrors` adds `StoreError` faults (the worker retries them with backoff). */
export const faultScheduleArb = (options: { readonly storeErrors?: boolean; readonly kinds?: FaultKinds } = {}): fc.Arbitrary<FaultSchedule> =>
  faultScheduleArbWith(fc, options)
