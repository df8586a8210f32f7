/**
 * Replay equivalence. A generated program runs once on the in-memory store;
 * then, for the journal of every workflow it started (root and children):
 *
 * - replaying the journal, task by task, makes exactly the recorded commands
 *   (kind, sequence number, name *and* arguments), and the replayed run is
 *   closed after the last task and open before it;
 * - `Worker.runReplayHistory` accepts every prefix cut at a task boundary;
 * - a code change — two calls of a sequence swapped, an activity renamed, a
 *   timer inserted — is always detected: replay throws
 *   `DeterminismViolationError` naming the workflow task, the sequence number
 *   and both calls, exactly from the first task where the code diverges.
 */
import fc from "fast-check"
import { DeterminismViolationError, type JournalEntry, Worker, type WorkflowHistory } from "hotmesh"
import { describe, expect, it } from "vitest"
import { commandEntry, isJournaled } from "../src/core/journal.ts"
import { patchesOf, splitTasks } from "../src/core/replay.ts"
import { runInfo, WorkflowRun } from "../src/sdk/workflow/internal/run.ts"
import { assertProperty, numRuns, timeoutFor } from "./support/check.ts"
import { childId, evaluate, type Expected, makeProgramWorkflow, type Mutation, type Node, nodesOf, numbered, programArb, programWorkflow, WORKFLOW_TYPE } from "./support/programs.ts"
import { checkJournals, freshId, runProgram } from "./support/run.ts"

const RUNS = numRuns(30)

const withoutTime = ({ at: _, ...rest }: { readonly at: number } & Record<string, unknown>) => rest

/** Replay `history` task by task with `fn`, asserting each task makes exactly the recorded commands. */
const replayExactly = async (history: WorkflowHistory, fn: (program: Node) => Promise<number>): Promise<WorkflowRun> => {
  const startTime = history.events.find((e) => e.type === "WorkflowStarted")?.at ?? 0
  const run = new WorkflowRun(runInfo({ ...history, taskQueue: "replay", startTime }, "default"), fn as (...args: Array<any>) => Promise<unknown>)
  for (const task of splitTasks(history.events)) {
    const made = await run.activate(task.jobs, task.historyLength, patchesOf(task.commands))
    expect(made.filter(isJournaled).map((command) => withoutTime(commandEntry(command, 0))), `${history.workflowId} task ${task.task}`)
      .toEqual(task.commands.map(withoutTime))
  }
  return run
}

/** Cut points: the journal length before each task after the first, and the whole journal. */
const taskBoundaries = (events: ReadonlyArray<JournalEntry>): Array<{ readonly tasks: number; readonly length: number }> => {
  const tasks = splitTasks(events)
  return tasks.map((task, i) => ({ tasks: task.task, length: tasks[i + 1]?.historyLength ?? events.length }))
}

const recordAndCheck = async (program: Node, label: string) => {
  const rootId = freshId(label)
  const expected = evaluate(program, rootId)
  const run = await runProgram(program, expected, rootId)
  checkJournals(expected, run, true)
  return { expected, histories: run.histories }
}

// ---------------------------------------------------------------------------
// Mutations

interface Detected {
  readonly mutation: Mutation
  readonly workflowId: string
  /** The recorded call and the call the changed code makes instead, as the error names them. */
  readonly recorded: string
  readonly made: string
  readonly seq: number
  readonly task: number
}

const describeNode = (node: Node): string | undefined =>
  node.kind === "activity" ? `activity ${node.name}` : node.kind === "sleep" ? "timer" : node.kind === "child" ? `child workflow ${WORKFLOW_TYPE}` : undefined

/** The recorded command of call node `node` in `events`, with the task that made it. */
const recordedCall = (node: Node, workflowId: string, events: ReadonlyArray<JournalEntry>): { seq: number; task: number } | undefined => {
  let task = 0
  for (const e of events) {
    if ("task" in e) task = e.task
    const matches = (node.kind === "activity" && e.type === "ActivityScheduled" && (JSON.parse(e.args[0]!) as { id: number }).id === node.id) ||
      (node.kind === "child" && e.type === "ChildStartInitiated" && e.workflowId === childId(workflowId, node.id))
    if (matches && "seq" in e) return { seq: e.seq, task }
  }
  return undefined
}

/** Every detectable code change of `program` whose divergence the recorded journals contain. */
const mutations = (program: Node, expected: Expected, histories: ReadonlyMap<string, WorkflowHistory>): Array<Detected> => {
  const out: Array<Detected> = []
  const add = (mutation: Mutation, node: Node, made: string) => {
    const workflowId = expected.reached.get(node.id)
    const recorded = describeNode(node)
    const call = workflowId === undefined ? undefined : recordedCall(node, workflowId, histories.get(workflowId)!.events)
    if (call !== undefined && recorded !== undefined && recorded !== made) out.push({ mutation, workflowId: workflowId!, recorded, made, ...call })
  }
  for (const node of nodesOf(program)) {
    if (node.kind === "activity") add({ rename: { id: node.id, to: "omega" } }, node, "activity omega")
    if (node.kind === "activity" || node.kind === "child") add({ insertSleepBefore: node.id }, node, "timer")
    if (node.kind === "seq") {
      node.steps.forEach((step, index) => {
        const next = node.steps[index + 1]
        const made = next === undefined ? undefined : describeNode(next)
        if (made !== undefined && (step.kind === "activity" || step.kind === "child")) add({ swap: { seqId: node.id, index } }, step, made)
      })
    }
  }
  return out
}

describe("replay", () => {
  it(`of every task-boundary prefix reproduces the recorded commands (${RUNS} programs)`, async () => {
    await assertProperty(
      { file: "replay.test.ts", test: "replay of every task-boundary prefix" },
      fc.asyncProperty(programArb, async (program) => {
        const { histories } = await recordAndCheck(program, "replay")
        for (const history of histories.values()) {
          const run = await replayExactly(history, programWorkflow)
          expect(run.closed, `${history.workflowId}: replayed run closed`).toBe(true)
          const boundaries = taskBoundaries(history.events)
          for (const { tasks, length } of boundaries) {
            const prefix = { ...history, events: history.events.slice(0, length) }
            await Worker.runReplayHistory({ workflows: { [WORKFLOW_TYPE]: programWorkflow } }, prefix)
            if (tasks < boundaries.length) expect((await replayExactly(prefix, programWorkflow)).closed, `${history.workflowId}: open after ${tasks} tasks`).toBe(false)
          }
        }
      }),
      RUNS,
    )
  }, timeoutFor(RUNS, 2000))

  it(`detects swapped, renamed and inserted calls (${RUNS} programs × code changes)`, async () => {
    let checked = 0
    await assertProperty(
      { file: "replay.test.ts", test: "detects swapped, renamed and inserted calls" },
      fc.asyncProperty(programArb, fc.constantFrom("swap", "rename", "insertSleepBefore"), fc.nat(), async (generated, kind, choice) => {
        // Swappable neighbours are rare in random programs: for swaps, start the root sequence with two.
        const first = (["alpha", "beta", "gamma"] as const)[choice % 3]!
        const second = (["beta", "gamma", "alpha"] as const)[choice % 3]!
        const call = (name: typeof first) => ({ kind: "activity", id: 0, name, policy: 0, failures: 0, mode: "retryable", value: choice % 100 }) as const
        const program = kind === "swap" && generated.kind === "seq" ? numbered({ ...generated, steps: [call(first), call(second), ...generated.steps] }) : generated
        const { expected, histories } = await recordAndCheck(program, "mutant")
        const all = mutations(program, expected, histories)
        const preferred = all.filter((m) => kind in m.mutation)
        const candidates = preferred.length > 0 ? preferred : all
        if (candidates.length === 0) return
        checked++
        const change = candidates[choice % candidates.length]!
        const history = histories.get(change.workflowId)!
        const changed = { workflows: { [WORKFLOW_TYPE]: makeProgramWorkflow(change.mutation) } }
        for (const { tasks, length } of taskBoundaries(history.events)) {
          const replay = Worker.runReplayHistory(changed, { ...history, events: history.events.slice(0, length) })
          if (tasks < change.task) {
            await replay // the code has not diverged yet
            continue
          }
          const error = await replay.then(() => undefined, (e: unknown) => e)
          const context = `${JSON.stringify(change)} replaying ${tasks} tasks`
          expect(error, context).toBeInstanceOf(DeterminismViolationError)
          const message = (error as Error).message
          expect(message, context).toContain(`workflow task ${change.task}`)
          expect(message, context).toContain(`${change.recorded} (seq ${change.seq})`)
          expect(message, context).toContain(`${change.made} (seq ${change.seq})`)
        }
      }),
      RUNS,
    )
    expect(checked, "programs with a detectable code change").toBeGreaterThan(RUNS / 3)
  }, timeoutFor(RUNS, 2000))
})
