/**
 * The `Durable` namespace, for users coming from HotMesh's original SDK:
 * the same pieces as the top-level exports, gathered in one place.
 *
 * ```ts
 * import { Durable } from "hotmesh"
 * const connection = await Durable.Connection.connect()
 * const { charge } = Durable.workflow.proxyActivities<typeof activities>({ startToCloseTimeout: "10s" })
 * ```
 */
export { Client } from "./client.ts"
export { Connection } from "./connection.ts"
export { Worker } from "./worker.ts"
export { WorkflowFailedError } from "./errors.ts"
export * as workflow from "./workflow/index.ts"
export * as activity from "./activity/index.ts"
