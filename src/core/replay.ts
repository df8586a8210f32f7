/**
 * Replay, the pure part: split a journal into the workflow tasks that built
 * it, and compare what replayed code does with what the journal records
 * (design.md, invariant 3).
 */
import { type CommandEntry, describeCall, type Job, isCommandEntry, isJobEntry, type JournalEntry, sameCall } from "./journal.ts"

/** One recorded workflow task: the jobs it delivered and the commands the code made. */
export interface RecordedTask {
  readonly task: number
  readonly jobs: ReadonlyArray<Job>
  readonly commands: ReadonlyArray<CommandEntry>
  /** Journal entries before this task (what `workflowInfo().historyLength` was). */
  readonly historyLength: number
}

/** The patch ids recorded in a task's commands. */
export const patchesOf = (commands: ReadonlyArray<CommandEntry>): Set<string> =>
  new Set(commands.flatMap((entry) => (entry.type === "PatchMarker" ? [entry.patchId] : [])))

/** The journal's tasks, in order. Notes are skipped. */
export const splitTasks = (journal: ReadonlyArray<JournalEntry>): Array<RecordedTask> => {
  const tasks: Array<{ task: number; jobs: Array<Job>; commands: Array<CommandEntry>; historyLength: number }> = []
  journal.forEach((entry, index) => {
    if (isJobEntry(entry)) {
      const last = tasks[tasks.length - 1]
      const { task, ...job } = entry
      if (last !== undefined && last.task === task) last.jobs.push(job as Job)
      else tasks.push({ task, jobs: [job as Job], commands: [], historyLength: index })
    } else if (isCommandEntry(entry)) {
      tasks[tasks.length - 1]?.commands.push(entry)
    }
  })
  return tasks
}

/**
 * The first disagreement between recorded and replayed commands of one task,
 * as a sentence a user can act on, or `undefined` when they agree.
 */
export const findMismatch = (recordedAll: ReadonlyArray<CommandEntry>, madeAll: ReadonlyArray<CommandEntry>): string | undefined => {
  // Patch markers steer `patched()` during replay; they are not calls to compare.
  const recorded = recordedAll.filter((entry) => entry.type !== "PatchMarker")
  const made = madeAll.filter((entry) => entry.type !== "PatchMarker")
  const length = Math.max(recorded.length, made.length)
  for (let i = 0; i < length; i++) {
    const was = recorded[i]
    const now = made[i]
    if (was !== undefined && now !== undefined && sameCall(was, now)) continue
    if (was === undefined) return `the code made ${describeCall(now!)}, which the journal does not record`
    if (now === undefined) return `the journal records ${describeCall(was)}, which the code no longer makes`
    return `the journal records ${describeCall(was)} but the code made ${describeCall(now)}`
  }
  return undefined
}
