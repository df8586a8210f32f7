/**
 * Temporal's workflow-id policies, shared by client starts (`hotmesh`) and
 * child starts (`hotmesh/workflow`, which has no client code to import).
 */

/** Temporal's `WorkflowIdConflictPolicy`: what a start does when a run of its workflow id is open. */
export const WorkflowIdConflictPolicy = {
  /** Reject the start with `WorkflowExecutionAlreadyStartedError` (the default). */
  FAIL: "FAIL",
  /** Start nothing: the handle is the open run's. */
  USE_EXISTING: "USE_EXISTING",
  /** Terminate the open run and start a new one, in one commit. */
  TERMINATE_EXISTING: "TERMINATE_EXISTING",
} as const
/** One of `WorkflowIdConflictPolicy`'s values. */
export type WorkflowIdConflictPolicy = (typeof WorkflowIdConflictPolicy)[keyof typeof WorkflowIdConflictPolicy]

/** Temporal's `WorkflowIdReusePolicy`: whether a start may reuse the id of a closed run (kept for the connection's retention). */
export const WorkflowIdReusePolicy = {
  /** Always (the default). */
  ALLOW_DUPLICATE: "ALLOW_DUPLICATE",
  /** Only if the closed run did not complete (it failed, was cancelled or terminated). */
  ALLOW_DUPLICATE_FAILED_ONLY: "ALLOW_DUPLICATE_FAILED_ONLY",
  /** Never: `WorkflowExecutionAlreadyStartedError`. */
  REJECT_DUPLICATE: "REJECT_DUPLICATE",
  /** Always, and terminate an open run first (Temporal deprecates it for `WorkflowIdConflictPolicy.TERMINATE_EXISTING`). */
  TERMINATE_IF_RUNNING: "TERMINATE_IF_RUNNING",
} as const
/** One of `WorkflowIdReusePolicy`'s values. */
export type WorkflowIdReusePolicy = (typeof WorkflowIdReusePolicy)[keyof typeof WorkflowIdReusePolicy]
