/**
 * `hotmesh/testing`: test environments on the in-memory store (Temporal's
 * `TestWorkflowEnvironment`), and property tests of your own workflows
 * (`checkWorkflow`, `assertDeterministic`; fast-check is an optional peer
 * dependency, loaded only when they are called).
 */
export { TestWorkflowEnvironment, type TestEnvironmentOptions } from "./environment.ts"
export { defaultActivityInfo, MockActivityEnvironment } from "./mockActivityEnvironment.ts"
export {
  type ActivityBehavior,
  type ActivityBehaviorSpec,
  type ActivityCall,
  activityCalls,
  type CheckFaultKind,
  type CheckFaults,
  type CheckOutcome,
  type CheckSummary,
  checkWorkflow,
  type CheckWorkflowOptions,
  type InvariantContext,
} from "./checkWorkflow.ts"
export { assertDeterministic, type DeterminismSummary } from "./assertDeterministic.ts"
export { type NonDeterministicCall, NonDeterminismDetectedError } from "../workflow/internal/determinism.ts"
