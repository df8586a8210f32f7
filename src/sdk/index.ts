/**
 * `hotmesh`: durable workflows with Temporal's API and no server.
 *
 * Start with `Connection.connect()`, a `Worker` and a `Client`; see README.md
 * and docs/architecture.md.
 */
export {
  Client,
  type ClientOptions,
  WorkflowClient,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  type WorkflowHandleWithSignaledRunId,
  type WorkflowSignalWithStartOptions,
  type WorkflowStartOptions,
} from "./client.ts"
export { AsyncCompletionClient, type FullActivityId } from "./asyncCompletion.ts"
export { Connection, type ConnectionLogLevel, type ConnectionOptions, NativeConnection } from "./connection.ts"
export { DeadLetterClient, type DeadLetterEntry, type DeadLetterRef } from "./deadLetters.ts"
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
  ActivityNotFoundError,
  DeadLetterNotFoundError,
  DeterminismViolationError,
  QueryFailedError,
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
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
  type StreamKind,
  type TimerEntry,
} from "../stores/Store.ts"
export { layerMemory } from "../stores/memory.ts"
export * as Durable from "./durable.ts"
export { ParentClosePolicy } from "./workflow/api.ts"
export { describeEntry, formatHistory } from "./history.ts"
export { type ClientConnectConfig, loadClientConnectConfig, type LoadClientConnectConfigOptions } from "./envconfig.ts"
