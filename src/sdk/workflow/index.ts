/**
 * `hotmesh/workflow`: the API for workflow code (Temporal's `@temporalio/workflow`).
 */
export {
  type ActivityInterfaceFor,
  type ActivityOptions,
  type ChildWorkflowHandle,
  type ChildWorkflowOptions,
  condition,
  continueAsNew,
  defineQuery,
  deprecatePatch,
  defineSignal,
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  type QueryDefinition,
  setHandler,
  type SignalDefinition,
  sleep,
  startChild,
  uuid4,
  type Workflow,
  workflowInfo,
} from "./api.ts"
export { CancellationScope, type CancellationScopeOptions } from "./cancellation.ts"
export { log } from "./log.ts"
export {
  type ActivityInput,
  type ChildWorkflowOptionsWithDefaults,
  type ContinueAsNewInput,
  type ContinueAsNewOptions,
  defaultPayloadConverter,
  type GetLogAttributesInput,
  type Headers,
  type Next,
  type QueryInput,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type TimerInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from "../interceptors.ts"
export type { WorkflowInfo } from "./internal/run.ts"
export {
  ActivityFailure,
  ApplicationFailure,
  ApplicationFailureCategory,
  CancelledFailure,
  ChildWorkflowFailure,
  isCancellation,
  TemporalFailure,
  TerminatedFailure,
  TimeoutFailure,
} from "../failures.ts"
export { DeterminismViolationError, WorkflowExecutionAlreadyStartedError } from "../errors.ts"
export type { Duration } from "../../core/duration.ts"
export type { RetryPolicy } from "../../core/retry.ts"
