/**
 * Fair sharing of a task queue's activity stream between workflow types:
 * which *fairness key* an activity task carries, and which of a stream's
 * lanes that key is read from. Pure; both backends use `laneOf`, so a key
 * lands in the same lane whichever store holds it (docs/architecture.md,
 * "Fair sharing").
 */
import { fnv1a32 } from "./hash.ts"
import type { ActivityTask } from "./messages.ts"

/** The fairness key of an activity task: the type of the workflow that scheduled it. */
export const fairnessKeyOf = (task: ActivityTask): string => task.workflowType

/** Lanes per activity stream at most (a namespace setting; see `laneOf`). */
export const MAX_LANES = 64

/**
 * The lane (0..lanes-1) of `fairnessKey` on a stream with `lanes` lanes:
 * FNV-1a (32 bit) of its UTF-8 bytes, modulo `lanes`. Stable across
 * versions: it names Redis keys (docs/protocol.md).
 */
export const laneOf = (fairnessKey: string, lanes: number): number => {
  if (lanes <= 1) return 0
  return fnv1a32(fairnessKey) % lanes
}
