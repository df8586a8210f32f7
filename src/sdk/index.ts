/**
 * `hotmesh`: durable workflows with Temporal's API and no server.
 *
 * Start with `Connection.connect()`, a `Worker` and a `Client`; see README.md
 * and docs/architecture.md.
 */
export {
  Client,
  type ClientOptions,
  WithStartWorkflowOperation,
  WorkflowClient,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  type WorkflowHandleWithSignaledRunId,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type WorkflowSignalWithStartOptions,
  type WorkflowStartOptions,
  type WorkflowUpdateHandle,
  type WorkflowUpdateOptions,
  WorkflowUpdateStage,
} from "./client.ts"
export { AsyncCompletionClient, type FullActivityId } from "./asyncCompletion.ts"
export { Connection, type ConnectionLogLevel, type ConnectionOptions, NativeConnection } from "./connection.ts"
export { DeadLetterClient, type DeadLetterEntry, type DeadLetterRef } from "./deadLetters.ts"
export { type QueueLimits, type QueueLimitsChange, TaskQueueClient, type TaskQueueDescription } from "./taskQueues.ts"
export { DefaultLogger, type LogEntry, type Logger, type LogLevel, type LogMetadata, Runtime, type RuntimeOptions } from "./runtime.ts"
export {
  bundleWorkflowCode,
  Worker,
  type WorkerOptions,
  type WorkerState,
  type WorkflowBundle,
  type WorkflowBundleWithSourceMap,
  type WorkflowHistory,
} from "./worker.ts"
export {
  ActivityCancelledError,
  ActivityNotFoundError,
  DeadLetterNotFoundError,
  DeterminismViolationError,
  QueryFailedError,
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from "./errors.ts"
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
} from "./failures.ts"
export { DataConverterError, InvalidArgumentError, PayloadSizeLimitError } from "../core/errors.ts"
export type { JournalEntry } from "../core/journal.ts"
export type { WorkflowStatus } from "../core/state.ts"
export {
  type Commit,
  CommitConflict,
  type CommitStateWrite,
  type CommitWrites,
  type DeadLetter,
  type Delivery,
  type ExecutionRecord,
  type OutboundMessage,
  type ReadOptions,
  Store,
  StoreError,
  type StoreShape,
  type StreamAddress,
  type StreamDescription,
  type StreamKind,
  type TimerEntry,
} from "../stores/Store.ts"
export { layerMemory } from "../stores/memory.ts"
export * as Durable from "./durable.ts"
export { HandlerUnfinishedPolicy, ParentClosePolicy, type UpdateDefinition } from "./workflow/api.ts"
export { ActivityCancellationType } from "./workflow/api.ts"
export {
  defineSearchAttributeKey,
  type IndexedValueTypeMapping,
  type SearchAttributeKey,
  type SearchAttributePair,
  SearchAttributeType,
  type SearchAttributeUpdatePair,
  TypedSearchAttributes,
} from "./searchAttributes.ts"
export { type CountWorkflowExecution, type ListOptions, SearchAttributeClient, type WorkflowExecutionInfo } from "./visibility.ts"
export { describeEntry, formatHistory } from "./history.ts"
export {
  type ActivityExecuteInput,
  type ActivityInboundCallsInterceptor,
  type ActivityInterceptors,
  type ActivityInterceptorsFactory,
  type ClientInterceptors,
  composeInterceptors,
  defaultPayloadConverter,
  type Headers,
  type Next,
  type WorkerInterceptors,
  type WorkflowCancelInput,
  type WorkflowClientInterceptor,
  type WorkflowDescribeInput,
  type WorkflowExecution,
  type WorkflowQueryInput,
  type WorkflowSignalInput,
  type WorkflowSignalWithStartInput,
  type WorkflowStartInput,
  type WorkflowStartUpdateInput,
  type WorkflowStartUpdateOutput,
  type WorkflowStartUpdateWithStartInput,
  type WorkflowStartUpdateWithStartOutput,
  type WorkflowTerminateInput,
} from "./interceptors.ts"
export { type ClientConnectConfig, loadClientConnectConfig, type LoadClientConnectConfigOptions } from "./envconfig.ts"
export { type Dashboard, type DashboardOptions, startDashboard } from "../dashboard/server.ts"
