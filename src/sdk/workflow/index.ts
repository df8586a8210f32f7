/**
 * `hotmesh/workflow`: the API for workflow code (Temporal's `@temporalio/workflow`).
 */
export {
  ActivityCancellationType,
  type ActivityInterfaceFor,
  type LocalActivityOptions,
  proxyLocalActivities,
  allHandlersFinished,
  currentUpdateInfo,
  defineUpdate,
  HandlerUnfinishedPolicy,
  type UpdateDefinition,
  type UpdateHandlerOptions,
  type UpdateValidator,
  type ActivityOptions,
  ChildWorkflowCancellationType,
  type ChildWorkflowHandle,
  type ChildWorkflowOptions,
  condition,
  continueAsNew,
  type ContinueAsNewOptions,
  defineQuery,
  deprecatePatch,
  defineSignal,
  executeChild,
  makeContinueAsNewFunc,
  type ExternalWorkflowHandle,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  type QueryDefinition,
  setHandler,
  type SignalDefinition,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  type Workflow,
  workflowInfo,
} from "./api.ts"
export { CancellationScope, type CancellationScopeOptions } from "./cancellation.ts"
export { WorkflowIdReusePolicy } from "../workflowIdPolicies.ts"
export { log } from "./log.ts"
export {
  defineSearchAttributeKey,
  type SearchAttributeKey,
  type SearchAttributePair,
  SearchAttributeType,
  type SearchAttributeUpdatePair,
  TypedSearchAttributes,
} from "../searchAttributes.ts"
export {
  type ActivityInput,
  type LocalActivityInput,
  type ChildWorkflowOptionsWithDefaults,
  type ContinueAsNewInput,
  type ContinueAsNewInputOptions,
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
  type WorkflowTaskInput,
} from "../interceptors.ts"
export type { WorkflowInfo } from "./internal/run.ts"
export type { UpdateInfo } from "./internal/context.ts"
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
