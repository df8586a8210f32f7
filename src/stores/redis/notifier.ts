/**
 * `awaitUpdate` notifications: one subscriber connection per store listens on
 * the namespace channel, where a commit with `notify` PUBLISHes
 * `<version>:<execution key>` (inside the commit script). A waiter wakes only
 * for a version past the one it waits beyond, so a late notification of an
 * older commit cannot cut a newer wait short. Waiters register before
 * checking the stored version, so a notification between the check and the
 * wait is never missed. Notifications published while the subscriber was
 * reconnecting are lost: when it is ready again (ioredis re-subscribes) every
 * waiter is woken to re-check, so callers' timeouts are only a last resort.
 *
 * Cluster note: PUBLISH is broadcast to every node, so this works unchanged;
 * sharded pub/sub (SPUBLISH on a per-partition channel) would scale better.
 */
import { Effect, type Scope } from "effect"
import type { CommandClient } from "./connection.ts"
import type { StoreError } from "../Store.ts"
import { sleepReal } from "./realtime.ts"
import { attempt } from "./scripts.ts"

/** Per-key wake-ups fed by the namespace's pub/sub channel. */
export interface Notifier {
  /**
   * Resolve when a notification for `key` with a version above `afterVersion`
   * arrives, at once if `currentVersion` (read after registering) is already
   * above it, or after `timeoutMs`.
   */
  readonly wait: (
    key: string,
    afterVersion: number,
    currentVersion: Effect.Effect<number, StoreError>,
    timeoutMs: number,
  ) => Effect.Effect<void, StoreError>
}

interface Waiter {
  readonly afterVersion: number
  readonly wake: () => void
}

/** Subscribe a duplicate of `base` to `channel`; closed with the scope. */
export const acquireNotifier = (base: CommandClient, channel: string): Effect.Effect<Notifier, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const waiters = new Map<string, Set<Waiter>>()
    const onMessage = (_channel: string, message: string) => {
      const colon = message.indexOf(":")
      const version = Number(message.slice(0, colon))
      const set = waiters.get(message.slice(colon + 1))
      if (set === undefined) return
      for (const w of set) if (version > w.afterVersion) w.wake()
    }
    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const s = base.duplicate()
        s.on("error", () => {})
        s.on("message", onMessage)
        return s
      }),
      (s) => Effect.sync(() => s.disconnect()),
    )
    yield* attempt("subscribe", () => subscriber.subscribe(channel))
    // After a reconnect, anything may have been published meanwhile: wake everyone to re-check.
    subscriber.on("ready", () => {
      for (const set of waiters.values()) for (const w of set) w.wake()
    })

    const register = (key: string, waiter: Waiter): (() => void) => {
      let set = waiters.get(key)
      if (set === undefined) waiters.set(key, (set = new Set()))
      set.add(waiter)
      return () => {
        const current = waiters.get(key)
        if (current !== undefined && current.delete(waiter) && current.size === 0) waiters.delete(key)
      }
    }

    const wait: Notifier["wait"] = (key, afterVersion, currentVersion, timeoutMs) =>
      Effect.suspend(() => {
        if (timeoutMs <= 0) return Effect.void
        let notified = false
        let resumeFiber: (() => void) | undefined
        const unregister = register(key, {
          afterVersion,
          wake: () => {
            notified = true
            resumeFiber?.()
          },
        })
        const signal = Effect.callback<void>((resume) => {
          if (notified) return resume(Effect.void)
          resumeFiber = () => resume(Effect.void)
        })
        return Effect.gen(function*() {
          if ((yield* currentVersion) > afterVersion) return
          yield* Effect.raceFirst(signal, sleepReal(timeoutMs))
        }).pipe(Effect.ensuring(Effect.sync(unregister)))
      })
    return { wait }
  })
