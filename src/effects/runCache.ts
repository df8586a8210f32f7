/**
 * The workflow-task loop's one cache: for each workflow recently stepped by
 * this worker, the state it committed, the store version that state has, and
 * the live run (suspended workflow code) that belongs to it.
 *
 * A step *takes* its workflow's entry out of the cache and puts an entry back
 * only after its commit succeeded (`version + 1` and the token that commit
 * wrote). So a step that fails, conflicts, is interrupted or dies on a bug
 * leaves nothing behind, and the next step loads the state and replays the
 * run from the journal. The cache is only a guess: another process may have
 * moved the workflow on, or the store may have lost writes and reached the
 * same version again with other contents; the commit's check of version and
 * token catches both.
 *
 * Bounded by count and by an estimate of bytes (the encoded state, plus a
 * fixed allowance per run and per journal entry the run has seen); the least
 * recently used entries go first.
 */
import type { ExecutionState } from "../core/state.ts"

/** One cached workflow. `run` is the executor's live run, opaque here. */
export interface CachedRun<R> {
  /** The store revision `state` is: its version and the token of the write that stored it. */
  readonly version: number
  readonly token: string
  readonly state: ExecutionState
  readonly run: R
  /** Estimated memory held (bytes). */
  readonly bytes: number
}

/** Limits of a cache. */
export interface RunCacheLimits {
  readonly maxEntries: number
  readonly maxBytes: number
}

/** Counters for benchmarks and operators. */
export interface RunCacheStats {
  readonly entries: number
  readonly bytes: number
  readonly hits: number
  readonly misses: number
  readonly evictions: number
}

/** Bytes a run is charged beyond its encoded state: the suspended closure and its bookkeeping. */
export const RUN_BASE_BYTES = 2048
/** Bytes charged per journal entry the run has seen (promises, handlers and values it may hold). */
export const RUN_BYTES_PER_ENTRY = 64

/**
 * Estimated bytes held by a cached run whose encoded state has `stateLength`
 * characters (0 when the store keeps the state object itself, as the
 * embedded store does: the cache then adds nothing for it).
 */
export const estimateRunBytes = (state: ExecutionState, stateLength: number): number =>
  RUN_BASE_BYTES + 2 * stateLength + RUN_BYTES_PER_ENTRY * state.journalLength

/** An LRU of live runs (a `Map` keeps insertion order: re-inserting makes an entry the newest). */
export class RunCache<R> {
  readonly #entries = new Map<string, CachedRun<R>>()
  #bytes = 0
  #hits = 0
  #misses = 0
  #evictions = 0

  constructor(readonly limits: RunCacheLimits) {}

  /** Remove and return the entry of `workflowId` (the caller owns it until it puts one back). */
  take(workflowId: string): CachedRun<R> | undefined {
    const entry = this.#entries.get(workflowId)
    if (entry === undefined) {
      this.#misses++
      return undefined
    }
    this.#hits++
    this.#entries.delete(workflowId)
    this.#bytes -= entry.bytes
    return entry
  }

  /** Cache `entry` as the newest, evicting the least recently used beyond the limits. */
  put(workflowId: string, entry: CachedRun<R>): void {
    const previous = this.#entries.get(workflowId)
    if (previous !== undefined) {
      this.#entries.delete(workflowId)
      this.#bytes -= previous.bytes
    }
    this.#entries.set(workflowId, entry)
    this.#bytes += entry.bytes
    while (this.#entries.size > this.limits.maxEntries || (this.#bytes > this.limits.maxBytes && this.#entries.size > 1)) {
      const oldest = this.#entries.entries().next()
      if (oldest.done === true) break
      this.#entries.delete(oldest.value[0])
      this.#bytes -= oldest.value[1].bytes
      this.#evictions++
    }
  }

  /** Counters since the cache was made. */
  stats(): RunCacheStats {
    return { entries: this.#entries.size, bytes: this.#bytes, hits: this.#hits, misses: this.#misses, evictions: this.#evictions }
  }
}
