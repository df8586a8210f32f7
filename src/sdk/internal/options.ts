/**
 * No option is silently ignored: every public entry point that takes an
 * options object passes it through `checkOptions`, which rejects any key it
 * does not honour with an `InvalidArgumentError` naming the key. Temporal
 * options that HotMesh does not implement yet get a message that says so
 * (and what to do instead), so code ported from Temporal fails loudly at the
 * call instead of behaving differently.
 */
import { type Duration, optionalMillis } from "../../core/duration.ts"
import { InvalidArgumentError } from "../../core/errors.ts"

/** Temporal options HotMesh recognises but does not honour, with what to do instead. */
export type Unsupported = Readonly<Record<string, string>>

const NOT_YET = "is a Temporal option HotMesh does not support yet"

/** Workflow start options of Temporal's that HotMesh does not honour (client starts and children). */
export const UNSUPPORTED_START: Unsupported = {
  workflowTaskTimeout: "is not honoured: HotMesh has no per-workflow task timeout; a workflow task whose worker crashed or froze is " +
    "taken over after the connection's visibilityTimeoutMs, and one that fails is retried with backoff (1 s doubling to 10 s)",
  searchAttributes: "is Temporal's deprecated untyped form: use typedSearchAttributes",
  retry: `${NOT_YET} for workflows (Temporal advises against workflow retries; activities take a retry policy): catch the failure and continueAsNew, or start again from the client`,
  priority: `${NOT_YET}: task queues are served in stream order (no priority keys or fairness)`,
  versioningOverride: `${NOT_YET}: HotMesh has no worker deployments (use patched() to change workflow code safely)`,
}

/** Client-only start options of Temporal's that HotMesh does not honour. */
export const UNSUPPORTED_CLIENT_START: Unsupported = {
  ...UNSUPPORTED_START,
  followRuns: `${NOT_YET}: result() always follows continue-as-new (and cron runs)`,
  requestEagerStart: `${NOT_YET}: there is no server to hand the first workflow task back; the start's commit already puts it on the task queue`,
}

/** Child-only options of Temporal's that HotMesh does not honour. */
export const UNSUPPORTED_CHILD: Unsupported = {
  ...UNSUPPORTED_START,
  namespace: `${NOT_YET}: a child runs in its parent's namespace`,
  startDelay: "is not a child option in Temporal (client starts take it): sleep() at the start of the child",
  workflowIdConflictPolicy: "is not a child option in Temporal (its ChildWorkflowOptions omits it; the server has no conflict policy for children): " +
    "a running child id fails the start (WorkflowExecutionAlreadyStartedError); workflowIdReusePolicy TERMINATE_IF_RUNNING replaces it",
}

/** Continue-as-new options of Temporal's that HotMesh does not honour (`makeContinueAsNewFunc`). */
export const UNSUPPORTED_CONTINUE_AS_NEW: Unsupported = {
  workflowTaskTimeout: UNSUPPORTED_START["workflowTaskTimeout"]!,
  searchAttributes: UNSUPPORTED_START["searchAttributes"]!,
  headers: NOT_YET,
  versioningIntent: NOT_YET,
}

/** Activity options of Temporal's that HotMesh does not honour. */
export const UNSUPPORTED_ACTIVITY: Unsupported = {
  scheduleToStartTimeout: `${NOT_YET}: use scheduleToCloseTimeout`,
  activityId: `${NOT_YET}: activities are identified by their sequence number`,
  versioningIntent: NOT_YET,
  allowEagerDispatch: NOT_YET,
  summary: NOT_YET,
  priority: NOT_YET,
}

/** Worker options of Temporal's that HotMesh does not honour. */
export const UNSUPPORTED_WORKER: Unsupported = {
  sinks: NOT_YET,
  dataConverter: `${NOT_YET}: payloads are JSON`,
  bundlerOptions: `${NOT_YET}: workflow code is not bundled`,
  reuseV8Context: `${NOT_YET}: workflow code is not sandboxed`,
  debugMode: NOT_YET,
  buildId: NOT_YET,
  useVersioning: NOT_YET,
  workerDeploymentOptions: NOT_YET,
  maxConcurrentWorkflowTaskExecutions: `${NOT_YET}: set maxWorkflowTaskBatch`,
  shutdownForceTime: NOT_YET,
  stickyQueueScheduleToStartTimeout: `${NOT_YET}: every worker keeps its own cache of live runs`,
  tuner: NOT_YET,
}

/** Client options of Temporal's that HotMesh does not honour. */
export const UNSUPPORTED_CLIENT: Unsupported = {
  dataConverter: `${NOT_YET}: payloads are JSON`,
  identity: NOT_YET,
}

const NO_SERVER = "HotMesh has no server: give Connection.connect a store (`redis: url | options | client`), or nothing for the embedded in-memory store"

/** Temporal connection options that do not apply to HotMesh. */
export const UNSUPPORTED_CONNECTION: Unsupported = {
  address: `does not apply: ${NO_SERVER}`,
  tls: "does not apply: for Redis over TLS use a rediss:// URL or redis: { tls }",
  apiKey: `does not apply: ${NO_SERVER}`,
  metadata: `does not apply: ${NO_SERVER}`,
  credentials: `does not apply: ${NO_SERVER}`,
  callCredentials: `does not apply: ${NO_SERVER}`,
  interceptors: NOT_YET,
  connectTimeout: "is connectTimeoutMs here (a number of ms)",
}

/** Temporal test-environment options that do not apply to HotMesh. */
export const UNSUPPORTED_TEST_ENVIRONMENT: Unsupported = {
  client: "does not apply: the environment makes its own client (env.client)",
}

/** Temporal's workflow timeouts, as start options (client starts and children) spell them. */
export interface WorkflowTimeoutOptions {
  /** The whole execution, across continue-as-new, times out (`TIMED_OUT`) this long after its first run started. */
  readonly workflowExecutionTimeout?: Duration
  /** Each run times out this long after it started. */
  readonly workflowRunTimeout?: Duration
}

/** Temporal's `staticSummary` / `staticDetails` (user metadata): text shown by `describe`, fixed at the start. */
export interface StaticMetadataOptions {
  /** A one-line summary of the execution. */
  readonly staticSummary?: string
  /** Longer details of the execution. */
  readonly staticDetails?: string
}

/** The option names of `StaticMetadataOptions`. */
export const STATIC_METADATA_OPTIONS = ["staticSummary", "staticDetails"] satisfies Array<keyof StaticMetadataOptions>

/** A start's static summary and details, checked (strings), as a new run carries them. */
export const staticMetadataOf = (options: StaticMetadataOptions, where: string): { readonly staticSummary?: string; readonly staticDetails?: string } => {
  for (const name of STATIC_METADATA_OPTIONS) {
    const value = options[name]
    if (value !== undefined && typeof value !== "string") throw new InvalidArgumentError({ message: `${where}: ${name} must be a string` })
  }
  return {
    ...(options.staticSummary === undefined ? {} : { staticSummary: options.staticSummary }),
    ...(options.staticDetails === undefined ? {} : { staticDetails: options.staticDetails }),
  }
}

/** The option names of `WorkflowTimeoutOptions`. */
export const WORKFLOW_TIMEOUT_OPTIONS = ["workflowExecutionTimeout", "workflowRunTimeout"] satisfies Array<keyof WorkflowTimeoutOptions>

/** A start's timeouts in ms, as a new run carries them (`0` is Temporal's "unlimited": none). */
export const workflowTimeoutsOf = (options: WorkflowTimeoutOptions, where: string): { readonly runTimeoutMs?: number; readonly executionTimeoutMs?: number } => {
  const runTimeoutMs = optionalMillis(options.workflowRunTimeout, `${where}: workflowRunTimeout`)
  const executionTimeoutMs = optionalMillis(options.workflowExecutionTimeout, `${where}: workflowExecutionTimeout`)
  return {
    ...(runTimeoutMs === undefined || runTimeoutMs === 0 ? {} : { runTimeoutMs }),
    ...(executionTimeoutMs === undefined || executionTimeoutMs === 0 ? {} : { executionTimeoutMs }),
  }
}

/**
 * Throw `InvalidArgumentError` naming every key of `options` that is not in
 * `known`: `unsupported` explains the Temporal ones, the rest are unknown
 * (usually a typo). `where` names the call (`"client.workflow.start"`).
 */
export const checkOptions = (where: string, options: unknown, known: ReadonlyArray<string>, unsupported: Unsupported = {}): void => {
  if (options === undefined) return
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError({ message: `${where}: options must be an object` })
  }
  const problems: Array<string> = []
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue
    const why = unsupported[key]
    problems.push(why === undefined ? `unknown option "${key}" (known: ${known.join(", ")})` : `"${key}" ${why}`)
  }
  if (problems.length > 0) throw new InvalidArgumentError({ message: `${where}: ${problems.join("; ")}` })
}
