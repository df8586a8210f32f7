/**
 * Hostile stream entries, bad by construction: truncated JSON, JSON that is
 * not an object, objects with random fields and no known `type`, and real
 * message shapes with a required field removed or given a value of the
 * wrong type (sometimes a huge one). None of them can decode; each must end
 * up in its stream's dead letters, and the worker must go on serving good
 * workflows meanwhile.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict"
import fc from "fast-check"
import { type Client, type Connection, Store, Worker } from "hotmesh"
import { activities, add, doubler, finish, summer } from "../../test/fixtures/served-workflows.ts"
import type { StreamKind } from "../../src/stores/Store.ts"

/** One entry to append: which stream, which routing key, what body. */
export interface HostileEntry {
  readonly kind: StreamKind
  readonly key: string
  readonly body: string
}

/** Valid messages of each shape, and the fields every one of them requires. */
const WORKFLOW_TEMPLATES: ReadonlyArray<{ readonly message: Record<string, unknown>; readonly required: ReadonlyArray<string> }> = [
  { message: { type: "Start", workflowId: "w", runId: "r", workflowType: "summer", taskQueue: "q", args: [] }, required: ["type", "workflowId", "runId", "workflowType", "taskQueue", "args"] },
  { message: { type: "ActivityCompleted", runId: "r", seq: 1, attempt: 1, result: "1" }, required: ["type", "runId", "seq", "attempt"] },
  { message: { type: "ActivityFailed", runId: "r", seq: 1, attempt: 1, failure: { kind: "application", message: "m" } }, required: ["type", "runId", "seq", "attempt", "failure"] },
  { message: { type: "TimerFired", runId: "r", timer: { kind: "sleep", seq: 1 } }, required: ["type", "runId", "timer"] },
  { message: { type: "ChildClosed", runId: "r", seq: 1, status: "COMPLETED" }, required: ["type", "runId", "seq", "status"] },
  { message: { type: "Signal", signalId: "s", name: "add", args: ["1"] }, required: ["type", "signalId", "name", "args"] },
  { message: { type: "Terminate", reason: "why" }, required: ["type", "reason"] },
  { message: { type: "Query", queryId: "q", name: "n", args: [] }, required: ["type", "queryId", "name", "args"] },
]

const ACTIVITY_TEMPLATE = {
  message: { workflowId: "w", runId: "r", workflowType: "doubler", workflowTaskQueue: "q", seq: 1, attempt: 1, activityType: "double", args: ["1"], scheduledAt: 1 },
  required: ["workflowId", "runId", "workflowType", "workflowTaskQueue", "seq", "attempt", "activityType", "args", "scheduledAt"],
}

/** Fields that must be integers (`scheduledAt`, a time, may be any finite number). */
const INTEGER_FIELDS: ReadonlySet<string> = new Set(["seq", "attempt"])

const kindOf = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value)

/** A value of another JSON kind than `original`; sometimes huge. */
const wrongValue = (original: unknown): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom<unknown>(123, 1.5, null, true, "text", [], {}, [1, 2], { nested: { deep: [null] } }),
    fc.constant(kindOf(original) === "string" ? 1e308 : "x".repeat(200_000)),
    fc.jsonValue({ maxDepth: 2 }),
  ).filter((value) => kindOf(value) !== kindOf(original))

const mutated = (template: { readonly message: Record<string, unknown>; readonly required: ReadonlyArray<string> }): fc.Arbitrary<string> =>
  fc.constantFrom(...template.required).chain((field) =>
    fc.oneof(
      // Missing.
      fc.constant(JSON.stringify(Object.fromEntries(Object.entries(template.message).filter(([k]) => k !== field)))),
      // Wrong type (or huge).
      wrongValue(template.message[field]).map((value) => JSON.stringify({ ...template.message, [field]: value })),
      // An integer field given a fraction.
      ...(INTEGER_FIELDS.has(field) ? [fc.constant(JSON.stringify({ ...template.message, [field]: 0.5 }))] : []),
    ))

/** A proper prefix of a JSON object's text is never valid JSON. */
const truncated = (template: { readonly message: Record<string, unknown> }): fc.Arbitrary<string> => {
  const text = JSON.stringify(template.message)
  return fc.integer({ min: 0, max: text.length - 1 }).map((n) => text.slice(0, n))
}

const KNOWN_TYPES = new Set(WORKFLOW_TEMPLATES.map((t) => t.message.type as string).concat(["ActivityHeartbeat", "ChildStarted", "ChildStartFailed", "CancelRequested"]))

/** Objects with random fields: no `type` a workflow stream knows, and never the fields of a task. */
const randomObject = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 })
  .filter((o) => !(typeof o.type === "string" && KNOWN_TYPES.has(o.type)) && typeof o.activityType !== "string")
  .map((o) => JSON.stringify(o))

/** JSON that is not an object, or not JSON at all. */
const notAnObject = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).filter((v) => kindOf(v) !== "object").map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }).filter((s) => {
    try {
      return kindOf(JSON.parse(s)) !== "object"
    } catch {
      return true
    }
  }),
)

const bodyFor = (kind: StreamKind): fc.Arbitrary<string> =>
  kind === "workflow"
    ? fc.oneof(
      fc.constantFrom(...WORKFLOW_TEMPLATES).chain(mutated),
      fc.constantFrom(...WORKFLOW_TEMPLATES).chain(truncated),
      randomObject,
      notAnObject,
    )
    : fc.oneof(mutated(ACTIVITY_TEMPLATE), truncated(ACTIVITY_TEMPLATE), randomObject, notAnObject)

/** Hostile entries; keys are random or those of the good workflows (malformed messages to live workflows). */
export const hostileEntriesArb = (goodIds: ReadonlyArray<string>, maxLength: number): fc.Arbitrary<Array<HostileEntry>> =>
  fc.array(
    fc.record({
      kind: fc.constantFrom<StreamKind>("workflow", "activity"),
      key: fc.oneof(fc.constantFrom(...goodIds), fc.string({ minLength: 1, maxLength: 20 })),
    }).chain(({ kind, key }) => bodyFor(kind).map((body) => ({ kind, key, body }))),
    { minLength: 1, maxLength },
  )

// ---------------------------------------------------------------------------
// The good workflows served meanwhile.

export { activities, doubler, summer } from "../../test/fixtures/served-workflows.ts"

/**
 * Run good workflows while appending `entries` to `taskQueue`'s streams
 * concurrently; then check that the good ones returned their results, every
 * hostile entry (and nothing else) sits in the dead letters with a reason
 * and one delivery, and the worker is still running.
 */
export const serveUnderAttack = async (
  connection: Connection,
  client: Client,
  taskQueue: string,
  goodIds: ReadonlyArray<string>,
  entries: ReadonlyArray<HostileEntry>,
  waitForDeadLetters: (expected: number) => Promise<void>,
): Promise<void> => {
  const worker = await Worker.create({ connection, taskQueue, workflows: { summer, doubler }, activities })
  const running = worker.run()
  try {
    const good = goodIds.map(async (workflowId, i) => {
      if (i % 2 === 0) return [await client.workflow.execute(doubler, { taskQueue, workflowId, args: [i] }), 2 * i] as const
      const handle = await client.workflow.start(summer, { taskQueue, workflowId })
      await handle.signal(add, i)
      await handle.signal(finish)
      return [await handle.result(), i] as const
    })
    const attack = (async () => {
      for (const entry of entries) {
        await connection.run(Store.use((store) => store.append([{ stream: { kind: entry.kind, taskQueue }, key: entry.key, body: entry.body }])))
      }
    })()
    for (const [got, want] of await Promise.all(good)) strictEqual(got, want, "a good workflow's result")
    await attack
    await waitForDeadLetters(entries.length)
    const dead = await client.deadLetters.list({ taskQueue })
    const sorted = <T>(items: ReadonlyArray<T>) => [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
    deepStrictEqual(
      sorted(dead.map((d) => ({ kind: d.kind, key: d.workflowId, body: d.body }))),
      sorted(entries.map((e) => ({ kind: e.kind, key: e.key, body: e.body }))),
      "the dead letters are exactly the hostile entries",
    )
    for (const d of dead) {
      strictEqual(d.reason.length > 0, true, "a dead letter has a reason")
      strictEqual(d.deliveries, 1, "dead-lettered on its first delivery")
    }
    strictEqual(worker.getState(), "RUNNING", "the worker is still running")
  } finally {
    await worker.shutdown()
    await running
  }
}
