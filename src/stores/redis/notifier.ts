/**
 * `awaitUpdate` notifications: one subscriber connection per store listens on
 * the namespace channel, where a commit with `notify` PUBLISHes its execution
 * key (inside the commit script). Waiters register per key before checking
 * the stored version, so a notification between the check and the wait is
 * never missed; the timeout is the durable fallback for notifications lost
 * while the subscriber was reconnecting (ioredis re-subscribes on reconnect).
 *
 * Cluster note: PUBLISH is broadcast to every node, so this works unchanged;
 * sharded pub/sub (SPUBLISH on a per-partition channel) would scale better.
 */
import { Effect, type Scope } from "effect"
import type { Redis } from "ioredis"
import type { StoreError } from "../Store.ts"
import { attempt } from "./scripts.ts"

/** Per-key wake-ups fed by the namespace's pub/sub channel. */
export interface Notifier {
  /**
   * Resolve when a notification for `key` arrives, at once if `moved` (run
   * after registering) says the awaited change already happened, or after
   * `timeoutMs`.
   */
  readonly wait: (key: string, moved: Effect.Effect<boolean, StoreError>, timeoutMs: number) => Effect.Effect<void, StoreError>
}

/** Subscribe a duplicate of `base` to `channel`; unsubscribed and closed with the scope. */
export const acquireNotifier = (base: Redis, channel: string): Effect.Effect<Notifier, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const waiters = new Map<string, Set<() => void>>()
    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const s = base.duplicate()
        s.on("error", () => {})
        s.on("message", (_channel: string, key: string) => {
          const set = waiters.get(key)
          if (set === undefined) return
          waiters.delete(key)
          for (const wake of set) wake()
        })
        return s
      }),
      (s) => Effect.sync(() => s.disconnect()),
    )
    yield* attempt("subscribe", () => subscriber.subscribe(channel))

    const register = (key: string, wake: () => void): (() => void) => {
      let set = waiters.get(key)
      if (set === undefined) waiters.set(key, (set = new Set()))
      set.add(wake)
      return () => {
        const current = waiters.get(key)
        if (current !== undefined && current.delete(wake) && current.size === 0) waiters.delete(key)
      }
    }

    const wait: Notifier["wait"] = (key, moved, timeoutMs) =>
      Effect.gen(function*() {
        if (timeoutMs <= 0) return
        let notified = false
        let wakeFiber: (() => void) | undefined
        const unregister = register(key, () => {
          notified = true
          wakeFiber?.()
        })
        yield* Effect.ensuring(
          Effect.gen(function*() {
            if (yield* moved) return
            const signal = Effect.callback<void>((resume) => {
              if (notified) return resume(Effect.void)
              wakeFiber = () => resume(Effect.void)
            })
            yield* Effect.raceFirst(signal, Effect.sleep(timeoutMs))
          }),
          Effect.sync(unregister),
        )
      })
    return { wait }
  })
