/**
 * Opt-in synchronous replication (`durability: { replicas, timeoutMs }`).
 *
 * Redis replicates asynchronously: a master acknowledges a write before any
 * replica has it, so a failover can lose acknowledged commits. With
 * `durability`, every write that a caller relies on (`commit`, `complete`,
 * `append`, `relay`) is followed by `WAIT replicas timeoutMs` on the
 * connection that carried it — the partition's master — and the operation
 * counts as done only once that many replicas have it. Fewer acknowledgements
 * within `timeoutMs` fail the operation with a `StoreError` (cause
 * `ReplicasNotAcknowledged`) that callers retry; the write itself stays on
 * the master (a retried commit sees its own version and carries on).
 *
 * WAIT covers every earlier write of its connection, so concurrent writes to
 * one node share WAITs (group commit): a write whose reply has arrived joins
 * the next WAIT sent on that node's connection; one WAIT is in flight per
 * node at a time.
 */
import { Data, Effect } from "effect"
import { StoreError } from "../Store.ts"
import { type CommandClient, isCluster, masterOfSlot, nodeClient } from "./connection.ts"
import type { ScriptName } from "./lua.ts"
import type { RunScript } from "./scripts.ts"
import { keySlot } from "./slot.ts"

/** How many replicas must have each write, and how long to wait for them. */
export interface Durability {
  readonly replicas: number
  readonly timeoutMs: number
}

/** Fewer replicas than `durability.replicas` acknowledged a write within `timeoutMs`. */
export class ReplicasNotAcknowledged extends Data.TaggedError("ReplicasNotAcknowledged")<{
  readonly node: string
  readonly acknowledged: number
  readonly required: number
  readonly timeoutMs: number
}> {}

/** The scripts whose writes a caller relies on once they return. */
const DURABLE: ReadonlySet<ScriptName> = new Set<ScriptName>(["commit", "complete", "append", "relay"])

/** Why `durability` cannot be used, or undefined. */
export const durabilityProblem = (durability: Durability): string | undefined => {
  if (typeof durability !== "object" || durability === null) return "durability must be { replicas, timeoutMs }"
  const unknown = Object.keys(durability).filter((k) => k !== "replicas" && k !== "timeoutMs")
  if (unknown.length > 0) return `unknown durability option ${unknown.map((k) => `"${k}"`).join(", ")} (known: replicas, timeoutMs)`
  if (!Number.isInteger(durability.replicas) || durability.replicas < 1) return `durability.replicas must be an integer ≥ 1; got ${durability.replicas}`
  if (!(Number.isInteger(durability.timeoutMs) && durability.timeoutMs > 0)) return `durability.timeoutMs must be a positive integer number of ms; got ${durability.timeoutMs}`
  return undefined
}

interface NodeState {
  inFlight: boolean
  next: Array<{ readonly resolve: (n: number) => void; readonly reject: (e: unknown) => void }>
}

/** `runScript` whose durable scripts return only once `durability.replicas` replicas have their write. */
export const withDurability = (client: CommandClient, runScript: RunScript, durability: Durability): RunScript => {
  const { replicas, timeoutMs } = durability
  const states = new Map<string, NodeState>()

  const flush = (node: string | undefined, state: NodeState) => {
    const batch = state.next
    state.next = []
    state.inFlight = true
    const connection = nodeClient(client, node)
    const sent = connection === undefined
      ? Promise.reject(new Error(`CLUSTERDOWN no connection to node ${node ?? "(unknown)"} for WAIT`))
      : connection.call("WAIT", replicas, timeoutMs)
    sent.then(
      (n) => batch.forEach((b) => b.resolve(Number(n))),
      (e: unknown) => batch.forEach((b) => b.reject(e)),
    ).finally(() => {
      state.inFlight = false
      if (state.next.length > 0) flush(node, state)
    })
  }

  const waitOn = (node: string | undefined): Promise<number> =>
    new Promise((resolve, reject) => {
      const name = node ?? ""
      let state = states.get(name)
      if (state === undefined) states.set(name, (state = { inFlight: false, next: [] }))
      state.next.push({ resolve, reject })
      if (!state.inFlight) flush(node, state)
    })

  const replicated = (operation: string, key: string) =>
    Effect.suspend(() => {
      const node = isCluster(client) ? masterOfSlot(client, keySlot(key)) : undefined
      return Effect.flatMap(
        Effect.tryPromise({ try: () => waitOn(node), catch: (cause) => new StoreError({ operation, message: `durability: WAIT failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause }) }),
        (acknowledged) =>
          acknowledged >= replicas
            ? Effect.void
            : Effect.fail(new StoreError({
              operation,
              message: `durability: ${acknowledged} of ${replicas} replica${replicas > 1 ? "s" : ""} of ${node ?? "the server"} acknowledged the write within ${timeoutMs} ms`,
              cause: new ReplicasNotAcknowledged({ node: node ?? "", acknowledged, required: replicas, timeoutMs }),
            })),
      )
    })

  return (name, keys, args) =>
    DURABLE.has(name) && keys[0] !== undefined
      ? Effect.tap(runScript(name, keys, args), () => replicated(`script:${name}`, keys[0]!))
      : runScript(name, keys, args)
}
