/**
 * The worker every throughput bench runs: the bench workflows and
 * activities, up to 500 activities at once, workflow tasks read in batches
 * of 256. One definition, so the benches' numbers stay comparable.
 */
import * as activities from "./activities.ts"
import * as workflows from "./workflows.ts"

/** Spread into `Worker.create` with the bench's connection and task queue. */
export const BENCH_WORKER = {
  workflows,
  activities,
  maxConcurrentActivityTaskExecutions: 500,
  maxWorkflowTaskBatch: 256,
} as const
