/**
 * Back-pressure on Redis: a task queue's limits, token bucket and
 * concurrency leases live under one hash tag of their own
 * (`{<ns>:q:<taskQueue>}`, see keys.ts), so each operation is one script on
 * one slot (limitsLua.ts) and runs on Redis Cluster as it is. Time is Redis
 * `TIME` inside the scripts, the same for every process of the namespace.
 */
import { Effect } from "effect"
import { CONCURRENCY_RETRY_MS, PAUSED_RETRY_MS, type QueueLimits, type QueueLimitsChange } from "../../core/limits.ts"
import type { StoreShape } from "../Store.ts"
import type { Keys } from "./keys.ts"
import { type RunScript, runOk } from "./scripts.ts"

type LimitOps = Pick<StoreShape, "changeQueueLimits" | "queueLimits" | "acquirePermits" | "releasePermits" | "renewPermits">

const changeArg = (value: number | null | undefined): string => (value === undefined ? "" : value === null ? "-" : String(value))

const limitsOf = (reply: ReadonlyArray<unknown>): QueueLimits => {
  const number = (i: number) => {
    const text = String(reply[i] ?? "")
    return text === "" ? undefined : Number(text)
  }
  const rate = number(0)
  const burst = number(1)
  const concurrency = number(2)
  return {
    ...(rate === undefined ? {} : { rate }),
    ...(burst === undefined ? {} : { burst }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(String(reply[3]) === "1" ? { paused: true } : {}),
  }
}

/** The five operations over `keys`' namespace. */
export const makeRedisLimits = (keys: Keys, runScript: RunScript): LimitOps => {
  const change = (taskQueue: string, c: QueueLimitsChange) =>
    Effect.map(
      runOk(runScript, "limits", [keys.limiter(taskQueue)], [
        changeArg(c.rate), changeArg(c.burst), changeArg(c.concurrency), c.paused === undefined ? "" : c.paused ? "1" : "0",
      ]),
      limitsOf,
    )
  return {
    changeQueueLimits: change,
    queueLimits: (taskQueue) => change(taskQueue, {}),

    acquirePermits: (taskQueue, { holder, want, leaseMs }) =>
      Effect.map(
        runOk(runScript, "acquire", [keys.limiter(taskQueue), keys.leases(taskQueue)], [
          holder, Math.max(0, Math.floor(want)), Math.ceil(leaseMs), PAUSED_RETRY_MS, CONCURRENCY_RETRY_MS,
        ]),
        (reply) => ({
          granted: Number(reply[0]),
          limited: Number(reply[1]) === 1,
          retryAfterMs: Number(reply[2]),
          leases: reply.slice(3).map(String),
        }),
      ),

    releasePermits: (taskQueue, leases, unusedTokens) =>
      leases.length === 0 && unusedTokens <= 0
        ? Effect.void
        : Effect.asVoid(runOk(runScript, "unlease", [keys.limiter(taskQueue), keys.leases(taskQueue)], [Math.max(0, unusedTokens), ...leases])),

    renewPermits: (taskQueue, leases, leaseMs) =>
      leases.length === 0 ? Effect.void : Effect.asVoid(runOk(runScript, "renew", [keys.leases(taskQueue)], [Math.ceil(leaseMs), ...leases])),
  }
}
