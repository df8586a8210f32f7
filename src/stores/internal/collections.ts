/**
 * The small data structures under the in-memory store: an indexed min-heap
 * (O(log n) push, remove, update), a FIFO queue, and keyed wakers for parked
 * fibers. Internal.
 */
import { Effect } from "effect"

/** `at`: visibility deadline or timer `fireAt`; `seq`: insertion order (ties); `heapIndex`: -1 if not in a heap. */
export interface HeapNode { at: number; seq: number; heapIndex: number }

const less = (a: HeapNode, b: HeapNode): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** A binary min-heap on (`at`, `seq`) whose nodes know their index: O(log n) remove/update. */
export class IndexedHeap<N extends HeapNode> {
  private readonly nodes: Array<N> = []
  peek(): N | undefined { return this.nodes[0] }
  get size(): number { return this.nodes.length }
  push(node: N): void { this.nodes.push(node); this.up(this.nodes.length - 1, node) }
  /** Re-position `node` after its `at`/`seq` changed. */
  update(node: N): void { this.remove(node); this.push(node) }
  remove(node: N): void {
    const i = node.heapIndex
    if (i < 0) return
    node.heapIndex = -1
    const last = this.nodes.pop()!
    if (last === node) return
    this.down(i, last)
    if (last.heapIndex === i) this.up(i, last)
  }
  private up(i: number, node: N): void {
    const nodes = this.nodes
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = nodes[p]!
      if (!less(node, parent)) break
      nodes[i] = parent
      parent.heapIndex = i
      i = p
    }
    nodes[i] = node
    node.heapIndex = i
  }
  private down(i: number, node: N): void {
    const nodes = this.nodes
    const n = nodes.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && less(nodes[r]!, nodes[l]!) ? r : l
      const child = nodes[c]!
      if (!less(child, node)) break
      nodes[i] = child
      child.heapIndex = i
      i = c
    }
    nodes[i] = node
    node.heapIndex = i
  }
}

/** Array-backed FIFO queue with amortised O(1) `shift` (compacts when half consumed). */
export class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0
  push(item: T): void { this.items.push(item) }
  /** Items still queued. */
  get size(): number { return this.items.length - this.head }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) this.items.length = this.head = 0
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }
}
export type Waker = () => void

/** Parked fibers by key. Wake at the *end* of an operation: resuming runs the fiber synchronously. */
export class Waiters {
  private readonly byKey = new Map<string, Set<Waker>>()
  has(key: string): boolean { return this.byKey.has(key) }
  wake(key: string): void {
    const set = this.byKey.get(key)
    if (set === undefined) return
    this.byKey.delete(key)
    for (const w of set) w()
  }
  /**
   * Park until `key` is woken or `ready()` holds (checked while registering, so a
   * wake between the caller's check and the registration is never lost), for at
   * most `ms` milliseconds of the fiber's clock.
   */
  wait(key: string, ready: () => boolean, ms: number): Effect.Effect<void> {
    const signal = Effect.callback<void>((resume) => {
      if (ready()) return resume(Effect.void)
      let set = this.byKey.get(key)
      if (set === undefined) this.byKey.set(key, (set = new Set()))
      const w: Waker = () => resume(Effect.void)
      set.add(w)
      return Effect.sync(() => {
        const current = this.byKey.get(key)
        if (current !== undefined && current.delete(w) && current.size === 0) this.byKey.delete(key)
      })
    })
    return ms === Infinity ? signal : Effect.raceFirst(signal, Effect.sleep(Math.max(0, ms)))
  }
}
