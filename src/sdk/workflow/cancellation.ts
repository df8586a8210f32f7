/**
 * Cancellation scopes (Temporal's `CancellationScope`).
 *
 * Every durable call belongs to the scope that is current when it is made.
 * Cancelling a scope cancels its pending calls (they reject with a
 * cancellation failure, and the interpreter is told to cancel the timer,
 * activity or child) and every cancellable scope nested in it. A workflow
 * cancellation request cancels the root scope.
 */
import { type Duration, toMillis } from "../../core/duration.ts"
import { CancelledFailure } from "../failures.ts"
import { current, storage } from "./internal/context.ts"

/** Options of a new scope. */
export interface CancellationScopeOptions {
  /** A non-cancellable scope ignores its parent's cancellation (default true). */
  readonly cancellable?: boolean
  readonly parent?: CancellationScope
  /** Cancel the scope after this long (a durable timer). */
  readonly timeout?: Duration
}

/** A tree node that cancels the durable calls made inside it. */
export class CancellationScope {
  readonly cancellable: boolean
  readonly parent: CancellationScope | undefined
  readonly timeout: Duration | undefined
  #cancelled = false
  #reason: CancelledFailure | undefined
  readonly #listeners = new Set<(reason: CancelledFailure) => void>()
  /** Stops listening to the parent (once this scope's work has settled). */
  readonly #detach: () => void
  /** Rejects with a `CancelledFailure` when this scope is cancelled. */
  readonly cancelRequested: Promise<never>

  constructor(options: CancellationScopeOptions = {}) {
    this.cancellable = options.cancellable ?? true
    this.parent = options.parent
    this.timeout = options.timeout
    this.cancelRequested = new Promise<never>((_, reject) => this.#listeners.add(reject))
    this.cancelRequested.catch(() => undefined)
    let detach = () => {}
    if (this.parent !== undefined && this.cancellable) {
      if (this.parent.consideredCancelled) this.#cancelled = true
      else detach = this.parent.onCancel((reason) => this.cancel(reason))
    }
    this.#detach = () => {
      detach()
    }
  }

  /** Whether this scope (or a cancellable ancestor) was cancelled. */
  get consideredCancelled(): boolean {
    return this.#cancelled
  }

  /** Cancel the scope and everything cancellable under it. */
  cancel(reason: CancelledFailure = new CancelledFailure("Cancellation scope cancelled")): void {
    if (this.#cancelled) return
    this.#cancelled = true
    this.#reason = reason
    const listeners = [...this.#listeners]
    this.#listeners.clear()
    for (const listener of listeners) listener(reason)
  }

  /** Call `listener` when this scope is cancelled; returns an unsubscribe function. */
  onCancel(listener: (reason: CancelledFailure) => void): () => void {
    if (this.#cancelled) {
      listener(this.#reason ?? new CancelledFailure())
      return () => undefined
    }
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Run `fn` with this scope as the current one. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const context = current("CancellationScope.run")
    if (this.timeout === undefined) {
      const result = storage.run({ run: context.run, scope: this }, fn)
      result.then(this.#detach, this.#detach)
      return result
    }
    // The timeout is a durable timer in its own scope, cancelled once `fn` settles.
    const timerScope = new CancellationScope({ parent: this.parent ?? context.scope })
    context.run.startTimer(toMillis(this.timeout, "scope timeout"), timerScope).then(
      () => this.cancel(new CancelledFailure("Scope timed out")),
      () => undefined,
    )
    const result = storage.run({ run: context.run, scope: this }, fn)
    const stopTimer = () => {
      timerScope.cancel()
      this.#detach()
    }
    result.then(stopTimer, stopTimer)
    return result
  }

  /** The scope of the calling workflow code. */
  static current(): CancellationScope {
    return current("CancellationScope.current").scope
  }

  /** Run `fn` in a new cancellable child scope of the current one. */
  static cancellable<T>(fn: () => Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: true, parent: CancellationScope.current() }).run(fn)
  }

  /** Run `fn` in a scope that its parent's cancellation does not reach (cleanup code). */
  static nonCancellable<T>(fn: () => Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: false, parent: CancellationScope.current() }).run(fn)
  }

  /** Run `fn` in a cancellable scope that is cancelled after `timeout`. */
  static withTimeout<T>(timeout: Duration, fn: () => Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: true, parent: CancellationScope.current(), timeout }).run(fn)
  }
}
