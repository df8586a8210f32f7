/**
 * `awaitUpdate` notifications: one subscriber connection per store listens on
 * the namespace channel from the store's first wait on (a worker, which never
 * waits, receives nothing), where a commit with `notify` PUBLISHes
 * `<version>:<execution key>` (inside the commit script). A waiter wakes only
 * for a version past the one it waits beyond, so a late notification of an
 * older commit cannot cut a newer wait short. Waiters register before
 * checking the stored version, so a notification between the check and the
 * wait is never missed. Notifications published while the subscriber was
 * reconnecting are lost: when it is ready again it subscribes again and every
 * waiter is woken to re-check, so callers' timeouts are only a last resort.
 *
 * A record this store created (a client's start) needs no version read at
 * all: the store notes the version it wrote, with the subscription's epoch
 * at the time it sent the write, and the notifications it has seen for that
 * key since. Every notification past that version was published after the
 * write was sent — so, with the subscription unbroken since (same epoch), it
 * has been seen or is still on its way to this subscriber, and a waiter
 * registered now cannot miss it. Any reconnect changes the epoch, and the
 * waiter reads the version as before. (One version read less per
 * `execute()`: the read sat on the path between a start and its first step.)
 *
 * A notification of a small record carries the record too (`#` followed by
 * `[version, key, token]` as JSON, a newline, then the state; encode.ts
 * `NOTIFY_RECORD_MAX`), published just before the plain `<version>:<key>`
 * (which clients of earlier versions read): the waiter it wakes resolves
 * with that record, and its caller skips the read it would make. The plain
 * notification that follows finds no waiter left.
 *
 * Cluster note: PUBLISH is broadcast to every node, so this works unchanged;
 * sharded pub/sub (SPUBLISH on a per-partition channel) would scale better.
 */
import { Effect, Option, type Scope } from "effect"
import type { CommandClient } from "./connection.ts"
import type { ExecutionRecord, StoreError } from "../Store.ts"
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
  ) => Effect.Effect<ExecutionRecord | void, StoreError>
  /** Before sending a write that creates `key`'s record: the subscription's epoch, or undefined while it is down. */
  readonly mark: () => number | undefined
  /** That write committed `version`: a waiter past it needs no version read while the epoch holds. */
  readonly wrote: (key: string, version: number, mark: number) => void
}

/** Records created by this store remembered for their waiters (oldest forgotten first). */
const MAX_WRITTEN = 10_000

interface Written {
  readonly version: number
  readonly epoch: number
  /** The highest version notified for the key since. */
  seen: number
}

interface Waiter {
  readonly afterVersion: number
  /** `record`: what the notifying commit wrote, when the notification carried it. */
  readonly wake: (record?: ExecutionRecord) => void
}

/** A notification: the version a commit moved `key` to, and the record it wrote when it carries it. */
interface Notification {
  readonly version: number
  readonly key: string
  readonly record?: ExecutionRecord
}

/** Parse a notification of either form (see the module comment); `undefined` when malformed. */
export const parseNotification = (message: string): Notification | undefined => {
  if (message.startsWith("#")) {
    const newline = message.indexOf("\n")
    if (newline < 0) return undefined
    let header: unknown
    try {
      header = JSON.parse(message.slice(1, newline))
    } catch {
      return undefined
    }
    if (!Array.isArray(header) || header.length !== 3) return undefined
    const [version, key, token] = header as Array<unknown>
    if (typeof version !== "number" || !Number.isInteger(version) || typeof key !== "string" || typeof token !== "string") return undefined
    return { version, key, record: { key, version, token, state: message.slice(newline + 1) } }
  }
  const colon = message.indexOf(":")
  const version = Number(message.slice(0, colon))
  return colon < 0 || !Number.isInteger(version) ? undefined : { version, key: message.slice(colon + 1) }
}

/** Subscribe a duplicate of `base` to `channel` (at the first wait); closed with the scope. */
export const acquireNotifier = (base: CommandClient, channel: string): Effect.Effect<Notifier, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const waiters = new Map<string, Set<Waiter>>()
    const written = new Map<string, Written>()
    /** Bumped whenever the subscription breaks or comes back: notifications may have been lost in between. */
    let epoch = 0
    let live = false
    const onMessage = (_channel: string, message: string) => {
      const notification = parseNotification(message)
      if (notification === undefined) return
      const { version, key, record } = notification
      const mine = written.get(key)
      if (mine !== undefined && version > mine.seen) mine.seen = version
      const set = waiters.get(key)
      if (set === undefined) return
      for (const w of set) if (version > w.afterVersion) w.wake(record)
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
    // Subscribed on the first wait, not before: a store that never waits (a worker's) is sent no
    // notifications. SUBSCRIBE goes out only once the connection is ready: sent earlier, ioredis'
    // ready check (INFO) then fails in subscriber mode, the connection is dropped, and the
    // reconnect does not subscribe again (seen: a result waited out its poll for nothing).
    let subscribed = false
    let subscribing: Promise<void> | undefined
    const whenReady = (): Promise<void> => {
      if (subscriber.status === "ready") return Promise.resolve()
      const ready = new Promise<void>((resolve) => subscriber.once("ready", () => resolve()))
      if (subscriber.status === "wait") subscriber.connect().catch(() => {}) // lazyConnect: connect now
      return ready
    }
    /** The first subscription; after a reconnect the "ready" handler subscribes again. */
    const ensureSubscribed = Effect.suspend(() => {
      if (subscribed) return Effect.void
      subscribing ??= whenReady().then(() => subscriber.subscribe(channel)).then(
        () => {
          subscribed = true
          live = true
          epoch++
        },
        (error: unknown) => {
          subscribing = undefined
          throw error
        },
      )
      const pending = subscribing
      return attempt("subscribe", () => pending)
    })
    subscriber.on("close", () => {
      live = false
      epoch++
    })
    // After a reconnect: subscribe again (whatever ioredis re-sends), and only then trust the channel;
    // anything may have been published meanwhile, so every waiter is woken to re-check.
    subscriber.on("ready", () => {
      if (!subscribed) return
      subscriber.subscribe(channel).then(
        () => {
          live = true
          epoch++
          for (const set of waiters.values()) for (const w of set) w.wake()
        },
        () => {}, // the connection dropped again: its next "ready" tries again
      )
    })
    const mark = () => (live ? epoch : undefined)
    const wrote = (key: string, version: number, at: number) => {
      if (at !== epoch) return
      written.delete(key)
      written.set(key, { version, epoch: at, seen: 0 })
      if (written.size > MAX_WRITTEN) written.delete(written.keys().next().value!)
    }

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
      timeoutMs <= 0
        ? Effect.void
        // Not subscribed within the wait's time (Redis unreachable): the wait is over, the caller re-reads.
        : Effect.flatMap(Effect.timeoutOption(ensureSubscribed, timeoutMs), (ready) =>
          Option.isSome(ready) ? waitSubscribed(key, afterVersion, currentVersion, timeoutMs) : Effect.void)
    const waitSubscribed: Notifier["wait"] = (key, afterVersion, currentVersion, timeoutMs) =>
      Effect.suspend(() => {
        let notified = false
        let carried: ExecutionRecord | undefined
        let resumeFiber: (() => void) | undefined
        const unregister = register(key, {
          afterVersion,
          wake: (record) => {
            // The first wake decides: a record comes only with the notification that woke the waiter.
            if (notified) return
            notified = true
            carried = record
            resumeFiber?.()
          },
        })
        const signal = Effect.callback<ExecutionRecord | void>((resume) => {
          if (notified) return resume(Effect.succeed(carried))
          resumeFiber = () => resume(Effect.succeed(carried))
        })
        const mine = written.get(key)
        const known = live && mine !== undefined && mine.version === afterVersion && mine.epoch === epoch
        return Effect.gen(function*() {
          // Past it already; a notification that came meanwhile may still have brought the record.
          if (known ? mine.seen > afterVersion : (yield* currentVersion) > afterVersion) return carried
          return yield* Effect.raceFirst(signal, sleepReal(timeoutMs))
        }).pipe(Effect.ensuring(Effect.sync(unregister)))
      })
    return { wait, mark, wrote }
  })
