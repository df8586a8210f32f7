/**
 * Generated workflow programs: a small AST, one generic workflow that
 * interprets it with `hotmesh/workflow` calls, scripted activities, and a
 * pure reference evaluator that says what the runtime must produce.
 *
 * Every value is a small non-negative integer; `mix` folds results in order
 * (it is not commutative), so a result fed to the wrong call, or results
 * combined in the wrong order, changes the outcome.
 */
import fc from "fast-check"
import { ApplicationFailure } from "hotmesh"
import { Context } from "hotmesh/activity"
import { condition, defineSignal, executeChild, proxyActivities, proxyLocalActivities, setHandler, sleep, uuid4, workflowInfo } from "hotmesh/workflow"

export const WORKFLOW_TYPE = "programWorkflow"
export const ACTIVITY_NAMES = ["alpha", "beta", "gamma"] as const
export type ActivityName = (typeof ACTIVITY_NAMES)[number]
/** retryable: ApplicationFailure.retryable; nonRetryable: ApplicationFailure.nonRetryable; fatalType: type "Fatal" (non-retryable under policy 0 only). */
export type FailMode = "retryable" | "nonRetryable" | "fatalType"

export type Node =
  | { readonly kind: "value"; readonly id: number; readonly value: number }
  /** `local`: called through `proxyLocalActivities` (run in the workflow step; retries on durable timers). */
  | { readonly kind: "activity"; readonly id: number; readonly name: ActivityName; readonly policy: 0 | 1; readonly failures: number; readonly mode: FailMode; readonly value: number; readonly local?: boolean }
  | { readonly kind: "sleep"; readonly id: number; readonly ms: number }
  | { readonly kind: "signal"; readonly id: number; readonly value: number }
  | { readonly kind: "seq"; readonly id: number; readonly seed: number; readonly steps: ReadonlyArray<Node> }
  | { readonly kind: "all"; readonly id: number; readonly seed: number; readonly branches: ReadonlyArray<Node> }
  | { readonly kind: "catch"; readonly id: number; readonly fallback: number; readonly body: Node }
  | { readonly kind: "child"; readonly id: number; readonly program: Node }

/** The two retry policies an activity node can use (`policy` indexes this). */
export const POLICIES = [
  { maximumAttempts: 3, nonRetryableErrorTypes: ["Fatal"] },
  { maximumAttempts: 2, nonRetryableErrorTypes: [] as Array<string> },
] as const

export const mix = (acc: number, value: number): number => (acc * 31 + value + 7) % 1_000_003
export const activityResult = (value: number, attempt: number): number => (value * 7 + attempt) % 1000
export const failureMessage = (name: string, id: number, attempt: number): string => `${name}#${id} failed on attempt ${attempt}`
export const signalName = (id: number): string => `sig${id}`
export const childId = (parentId: string, id: number): string => `${parentId}.c${id}`
const sleepValue = (ms: number): number => ms % 997

// ---------------------------------------------------------------------------
// Arbitrary

/** A node before numbering: ids (if any) are ignored, children are drafts too. */
export type Draft = { readonly kind: Node["kind"] } & Record<string, unknown>

const leafArb: fc.Arbitrary<Draft> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("value" as const), value: fc.nat(99) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("activity" as const),
      name: fc.constantFrom(...ACTIVITY_NAMES),
      policy: fc.constantFrom(0 as const, 1 as const),
      failures: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }) }),
      mode: fc.constantFrom<FailMode>("retryable", "retryable", "nonRetryable", "fatalType"),
      value: fc.nat(99),
      local: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("sleep" as const), ms: fc.constantFrom(1, 500, 1000, 60_000, 3_600_000, 30 * 86_400_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("signal" as const), value: fc.nat(99) }) },
)

const { draft } = fc.letrec((tie) => ({
  draft: fc.oneof({ maxDepth: 3, depthIdentifier: "program", withCrossShrink: true }, leafArb, tie("seq"), tie("all"), tie("catch"), tie("child")),
  seq: fc.record({ kind: fc.constant("seq" as const), seed: fc.nat(99), steps: fc.array(tie("draft"), { minLength: 1, maxLength: 3 }) }),
  all: fc.record({ kind: fc.constant("all" as const), seed: fc.nat(99), branches: fc.array(tie("draft"), { minLength: 1, maxLength: 3 }) }),
  catch: fc.record({ kind: fc.constant("catch" as const), fallback: fc.nat(99), body: tie("draft") }),
  child: fc.record({ kind: fc.constant("child" as const), program: tie("draft") }),
}))

/** Give every node a unique id (depth-first order, from 1). */
export const numbered = (root: Draft): Node => {
  let next = 0
  const go = (n: Draft): Node => {
    const id = ++next
    switch (n.kind) {
      case "seq":
        return { ...n, id, steps: (n.steps as ReadonlyArray<Draft>).map(go) } as unknown as Node
      case "all":
        return { ...n, id, branches: (n.branches as ReadonlyArray<Draft>).map(go) } as unknown as Node
      case "catch":
        return { ...n, id, body: go(n.body as Draft) } as Node
      case "child":
        return { ...n, id, program: go(n.program as Draft) } as Node
      default:
        return { ...n, id } as Node
    }
  }
  return go(root)
}

/** Programs: a root sequence of up to four steps. */
export const programArb: fc.Arbitrary<Node> = fc
  .record({ kind: fc.constant("seq" as const), seed: fc.nat(99), steps: fc.array(draft as fc.Arbitrary<Draft>, { minLength: 1, maxLength: 4 }) })
  .map(numbered)

/** All nodes of a program, depth-first. */
export const nodesOf = (node: Node): Array<Node> => {
  const children = node.kind === "seq" ? node.steps : node.kind === "all" ? node.branches : node.kind === "catch" ? [node.body] : node.kind === "child" ? [node.program] : []
  return [node, ...children.flatMap(nodesOf)]
}

// ---------------------------------------------------------------------------
// Activities

export interface ActivityScript { readonly id: number; readonly failures: number; readonly mode: FailMode; readonly value: number }

/** One activity invocation, as the activity saw it. */
export interface Invocation { readonly workflowId: string; readonly seq: number; readonly attempt: number; readonly activityType: string; readonly local: boolean }

const scripted = (name: string, log: Array<Invocation>) => async (script: ActivityScript): Promise<number> => {
  const { info } = Context.current()
  log.push({ workflowId: info.workflowId, seq: Number(info.activityId), attempt: info.attempt, activityType: info.activityType, local: info.isLocal })
  if (info.attempt > script.failures) return activityResult(script.value, info.attempt)
  const message = failureMessage(name, script.id, info.attempt)
  if (script.mode === "nonRetryable") throw ApplicationFailure.nonRetryable(message, "Scripted")
  throw ApplicationFailure.retryable(message, script.mode === "fatalType" ? "Fatal" : "Scripted")
}

/** Activities for a worker; every invocation is appended to `log`. `omega` exists for rename mutations. */
export const makeActivities = (log: Array<Invocation>) =>
  Object.fromEntries([...ACTIVITY_NAMES, "omega"].map((name) => [name, scripted(name, log)]))

// ---------------------------------------------------------------------------
// The workflow

/** Code changes for replay tests: rename an activity call, swap two steps of a sequence, insert a timer before a node. */
export interface Mutation {
  readonly rename?: { readonly id: number; readonly to: string }
  readonly swap?: { readonly seqId: number; readonly index: number }
  readonly insertSleepBefore?: number
}

type Proxy = Record<string, (script: ActivityScript, salt: string) => Promise<number>>
const proxies: ReadonlyArray<Proxy> = POLICIES.map((policy) =>
  proxyActivities<Proxy>({ startToCloseTimeout: "1 minute", retry: { initialInterval: "1s", backoffCoefficient: 2, ...policy } }))
// A localRetryThreshold of 0: every retry waits on a durable timer, which the time-skipping environment skips.
const localProxies: ReadonlyArray<Proxy> = POLICIES.map((policy) =>
  proxyLocalActivities<Proxy>({ startToCloseTimeout: "1 minute", localRetryThreshold: 0, retry: { initialInterval: "1s", backoffCoefficient: 2, ...policy } }))

const settle = (p: Promise<number>) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))

const interpret = async (node: Node, mutation: Mutation): Promise<number> => {
  if (mutation.insertSleepBefore === node.id) await sleep(1)
  switch (node.kind) {
    case "value":
      return node.value
    case "activity": {
      const name = mutation.rename?.id === node.id ? mutation.rename.to : node.name
      // Ignored by the activity; recorded in the journal, so replay checks that time, randomness and ids repeat.
      const salt = `${Math.random()}|${Date.now()}|${new Date().toISOString()}|${uuid4()}`
      return (node.local === true ? localProxies : proxies)[node.policy]![name]!({ id: node.id, failures: node.failures, mode: node.mode, value: node.value }, salt)
    }
    case "sleep":
      await sleep(node.ms)
      return sleepValue(node.ms)
    case "signal": {
      let received: number | undefined
      setHandler(defineSignal<[number]>(signalName(node.id)), (value) => {
        received = value
      })
      await condition(() => received !== undefined)
      return received!
    }
    case "seq": {
      const steps = [...node.steps]
      const swap = mutation.swap
      if (swap?.seqId === node.id) [steps[swap.index], steps[swap.index + 1]] = [steps[swap.index + 1]!, steps[swap.index]!]
      let acc = node.seed
      for (const step of steps) acc = mix(acc, await interpret(step, mutation))
      return acc
    }
    case "all": {
      // Promise.all over settled branches: every branch runs to its end, and the
      // first failure *by index* is rethrown, so the outcome does not depend on timing.
      const settled = await Promise.all(node.branches.map((branch) => settle(interpret(branch, mutation))))
      let acc = node.seed
      for (const s of settled) {
        if (!s.ok) throw s.error
        acc = mix(acc, s.value)
      }
      return acc
    }
    case "catch":
      try {
        return await interpret(node.body, mutation)
      } catch {
        return node.fallback
      }
    case "child":
      return executeChild<(program: Node) => Promise<number>>(WORKFLOW_TYPE, { args: [node.program], workflowId: childId(workflowInfo().workflowId, node.id) })
  }
}

/** The generic workflow, optionally with a code change (register it under `WORKFLOW_TYPE`). */
export const makeProgramWorkflow = (mutation: Mutation = {}) => (program: Node): Promise<number> => interpret(program, mutation)

export const programWorkflow = makeProgramWorkflow()
export const workflows = { [WORKFLOW_TYPE]: programWorkflow }

// ---------------------------------------------------------------------------
// Reference evaluator

/** A failure as the client sees it: error class names along the `cause` chain, and the innermost message. */
export interface FailureShape { readonly chain: ReadonlyArray<string>; readonly message: string }
export type Outcome = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly failure: FailureShape }

/** What one workflow execution (root or child) must record. */
export interface ExpectedWorkflow {
  readonly workflowId: string
  readonly outcome: Outcome
  /** Durable calls, sorted: `activity alpha`, `timer`, `child <id>`. */
  readonly calls: ReadonlyArray<string>
  /** Activity attempts whose outcome the journal records. */
  readonly attempts: number
}

export interface Expected {
  readonly outcome: Outcome
  readonly workflows: ReadonlyArray<ExpectedWorkflow>
  /** Signals the test must send (the reached signal nodes). */
  readonly signals: ReadonlyArray<{ readonly workflowId: string; readonly name: string; readonly value: number }>
  /** The durable calls the program reaches (activity, sleep, child nodes): node id → id of the workflow that makes the call. */
  readonly reached: ReadonlyMap<number, string>
}

class Failed extends Error {
  constructor(readonly shape: FailureShape) {
    super(shape.message)
  }
}

/** Evaluate `program` as workflow `rootId` without the runtime. */
export const evaluate = (program: Node, rootId: string): Expected => {
  const workflows: Array<ExpectedWorkflow> = []
  const signals: Array<{ workflowId: string; name: string; value: number }> = []
  const reached = new Map<number, string>()

  const runWorkflow = (root: Node, workflowId: string): Outcome => {
    const calls: Array<string> = []
    let attempts = 0
    const ev = (node: Node): number => {
      switch (node.kind) {
        case "value":
          return node.value
        case "activity": {
          reached.set(node.id, workflowId)
          calls.push(`activity ${node.name}`)
          const policy = POLICIES[node.policy]
          const retryable = node.mode === "retryable" || (node.mode === "fatalType" && !(policy.nonRetryableErrorTypes as ReadonlyArray<string>).includes("Fatal"))
          const last = node.failures === 0 ? 1 : retryable ? Math.min(node.failures + 1, policy.maximumAttempts) : 1
          attempts += last
          if (last > node.failures) return activityResult(node.value, last)
          throw new Failed({ chain: ["ActivityFailure", "ApplicationFailure"], message: failureMessage(node.name, node.id, last) })
        }
        case "sleep":
          reached.set(node.id, workflowId)
          calls.push("timer")
          return sleepValue(node.ms)
        case "signal":
          signals.push({ workflowId, name: signalName(node.id), value: node.value })
          return node.value
        case "seq":
          return node.steps.reduce((acc, step) => mix(acc, ev(step)), node.seed)
        case "all": {
          const results = node.branches.map((branch) => {
            try {
              return { ok: true as const, value: ev(branch) }
            } catch (error) {
              return { ok: false as const, error }
            }
          })
          let acc = node.seed
          for (const r of results) {
            if (!r.ok) throw r.error
            acc = mix(acc, r.value)
          }
          return acc
        }
        case "catch":
          try {
            return ev(node.body)
          } catch (error) {
            if (error instanceof Failed) return node.fallback
            throw error
          }
        case "child": {
          reached.set(node.id, workflowId)
          const id = childId(workflowId, node.id)
          calls.push(`child ${id}`)
          const outcome = runWorkflow(node.program, id)
          if (outcome.ok) return outcome.value
          throw new Failed({ chain: ["ChildWorkflowFailure", ...outcome.failure.chain], message: outcome.failure.message })
        }
      }
    }
    let outcome: Outcome
    try {
      outcome = { ok: true, value: ev(root) }
    } catch (error) {
      if (!(error instanceof Failed)) throw error
      outcome = { ok: false, failure: error.shape }
    }
    workflows.push({ workflowId, outcome, calls: calls.sort(), attempts })
    return outcome
  }

  const outcome = runWorkflow(program, rootId)
  return { outcome, workflows, signals, reached }
}

/** The client-side shape of a workflow's failure (`WorkflowFailedError` → its cause chain). */
export const failureShape = (error: unknown): FailureShape => {
  const chain: Array<string> = []
  let current = (error as { cause?: unknown }).cause
  let message = String((error as Error).message)
  while (current instanceof Error) {
    chain.push(current.name)
    message = current.message
    current = current.cause
  }
  return { chain, message }
}
