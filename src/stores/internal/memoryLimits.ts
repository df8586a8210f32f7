/**
 * The memory store's back-pressure operations (`changeQueueLimits`,
 * `queueLimits`, `acquirePermits`, `releasePermits`, `renewPermits`): the
 * same rules as the Redis `acquire` script, on plain maps. Each operation is
 * one synchronous thunk, hence atomic; time is the calling fiber's `Clock`.
 */
import { Clock, Effect } from "effect"
import { applyLimitsChange, type Bucket, CONCURRENCY_RETRY_MS, defaultBurst, isLimited, msUntilToken, PAUSED_RETRY_MS, refill } from "../../core/limits.ts"
import type { Permits, QueueLimits, StoreShape } from "../Store.ts"

interface QueueState {
  limits: QueueLimits
  bucket: Bucket | undefined
  /** Lease id -> expiry (store clock). */
  readonly leases: Map<string, number>
}

type LimitOps = Pick<StoreShape, "changeQueueLimits" | "queueLimits" | "acquirePermits" | "releasePermits" | "renewPermits">

/** The five operations over one store's queues. */
export const makeMemoryLimits = (): LimitOps => {
  const queues = new Map<string, QueueState>()
  let leaseSeq = 0
  const queueOf = (taskQueue: string): QueueState => {
    let q = queues.get(taskQueue)
    if (q === undefined) queues.set(taskQueue, (q = { limits: {}, bucket: undefined, leases: new Map() }))
    return q
  }
  const dropExpired = (q: QueueState, now: number) => {
    for (const [id, expiry] of q.leases) if (expiry <= now) q.leases.delete(id)
  }
  return {
    changeQueueLimits: (taskQueue, change) =>
      Effect.sync(() => {
        const q = queueOf(taskQueue)
        const next = applyLimitsChange(q.limits, change)
        if (next.rate === undefined) q.bucket = undefined
        q.limits = next
        return next
      }),

    queueLimits: (taskQueue) => Effect.sync(() => queues.get(taskQueue)?.limits ?? {}),

    acquirePermits: (taskQueue, { holder, want, leaseMs }) =>
      Clock.clockWith((clock) =>
        Effect.sync((): Permits => {
          const q = queues.get(taskQueue)
          if (q === undefined || !isLimited(q.limits)) return { granted: want, leases: [], limited: false, retryAfterMs: 0 }
          const { rate, concurrency, paused } = q.limits
          if (paused === true) return { granted: 0, leases: [], limited: true, retryAfterMs: PAUSED_RETRY_MS }
          const now = clock.currentTimeMillisUnsafe()
          let granted = Math.max(0, Math.floor(want))
          let retryAfterMs = 0
          if (rate !== undefined) {
            q.bucket = refill(q.bucket, now, rate, q.limits.burst ?? defaultBurst(rate))
            granted = Math.min(granted, Math.floor(q.bucket.tokens))
            if (granted === 0) retryAfterMs = msUntilToken(q.bucket, rate)
          }
          if (concurrency !== undefined) {
            dropExpired(q, now)
            granted = Math.min(granted, Math.max(0, concurrency - q.leases.size))
            if (granted === 0 && retryAfterMs === 0) retryAfterMs = CONCURRENCY_RETRY_MS
          }
          if (rate !== undefined && q.bucket !== undefined) q.bucket = { tokens: q.bucket.tokens - granted, at: q.bucket.at }
          const leases: Array<string> = []
          if (concurrency !== undefined) {
            for (let i = 0; i < granted; i++) {
              const id = `${holder}:${++leaseSeq}`
              q.leases.set(id, now + leaseMs)
              leases.push(id)
            }
          }
          return { granted, leases, limited: true, retryAfterMs }
        })
      ),

    releasePermits: (taskQueue, leases, unusedTokens) =>
      Clock.clockWith((clock) =>
        Effect.sync(() => {
          const q = queues.get(taskQueue)
          if (q === undefined) return
          for (const id of leases) q.leases.delete(id)
          const { rate } = q.limits
          if (rate !== undefined && unusedTokens > 0) {
            const burst = q.limits.burst ?? defaultBurst(rate)
            const bucket = refill(q.bucket, clock.currentTimeMillisUnsafe(), rate, burst)
            q.bucket = { tokens: Math.min(burst, bucket.tokens + unusedTokens), at: bucket.at }
          }
        })
      ),

    renewPermits: (taskQueue, leases, leaseMs) =>
      Clock.clockWith((clock) =>
        Effect.sync(() => {
          const q = queues.get(taskQueue)
          if (q === undefined) return
          const now = clock.currentTimeMillisUnsafe()
          for (const id of leases) {
            const expiry = q.leases.get(id)
            if (expiry !== undefined && expiry > now) q.leases.set(id, now + leaseMs)
          }
        })
      ),
  }
}
