/**
 * `checkWorkflow(workflow, options)`: property-test a workflow of your own.
 *
 * Each run generates the workflow's arguments, client events (signals,
 * queries, a cancellation) at wait points, each activity call's behaviour
 * (failures, latency, heartbeats) and a fault schedule; runs the workflow
 * once without faults and once under the faults (each on a fresh
 * time-skipping environment, same run id, same inputs); and checks that both
 * end the same way, that the journals record each fact once, that activity
 * invocations match the journaled attempts, that every prefix of every
 * history replays, that workflow code made no non-deterministic call, and
 * the user's invariant. fast-check shrinks a failing case; the rejection's
 * message is the shrunk case's timeline with the injected faults marked, its
 * inputs, and a one-line reproduction.
 *
 * fast-check is an optional peer dependency: it is loaded when this runs.
 */
import type fcModule from "fast-check"
import { type Duration, toMillis } from "../../core/duration.ts"
import { InvalidArgumentError } from "../../core/errors.ts"
import { describeFailure } from "../../core/failure.ts"
import { decode, decodeArgs } from "../../core/payload.ts"
import type { WorkflowFailedError } from "../errors.ts"
import { formatHistory } from "../history.ts"
import type { WorkflowHistory } from "../worker.ts"
import { detectNonDeterminism, type NonDeterministicCall } from "../workflow/internal/determinism.ts"
import { makeRandom, uuidFrom } from "../workflow/internal/random.ts"
import type { WorkflowFunction } from "../workflow/internal/run.ts"
import {
  type ActivityBehavior,
  type CheckCase,
  type ClientEvent,
  describeEvent,
  FAULT_KIND,
  formatMs,
  runCase,
  type RunOutcome,
  type RunRecord,
  StuckError,
} from "./internal/checkRun.ts"
import { checkInvocations, checkJournals, replayPrefixes } from "./internal/checks.ts"
import { type FastCheck, type FaultKinds, faultScheduleArb, type FaultSchedule } from "./internal/faultyStore.ts"

export type { ActivityBehavior } from "./internal/checkRun.ts"

/** The faults `checkWorkflow` injects; all are on by default, each can be switched off. */
export interface CheckFaults {
  /** A step's messages, an activity result or a client message delivered twice; a message handed out again. */
  readonly duplicateDeliveries?: boolean
  /** A commit or an activity result applied but its acknowledgement lost: the message is delivered again. */
  readonly lostAcks?: boolean
  /** A commit applied but the worker told it lost a race: it reloads and replays. */
  readonly lostCommitReplies?: boolean
  /** A worker crashes between reading a message and committing its step (or reporting an activity result). */
  readonly crashes?: boolean
  /** The worker keeps no live run (every step replays the history) and restarts at every wait point. */
  readonly cacheEviction?: boolean
  /** Batches shuffled (across and within workflows), reads delayed. */
  readonly reorderedDelivery?: boolean
  /** Timers fire late (in both runs: see the docs) and the timer loop stalls. */
  readonly lateTimers?: boolean
  /** Store operations fail with `StoreError` (the worker retries with backoff). */
  readonly storeErrors?: boolean
  /** A client retries a signal whose reply it lost: the workflow receives it twice (a new signal id). */
  readonly duplicateSignals?: boolean
}

export type CheckFaultKind = keyof CheckFaults
const FAULT_KINDS: ReadonlyArray<CheckFaultKind> = [
  "duplicateDeliveries", "lostAcks", "lostCommitReplies", "crashes", "cacheEviction", "reorderedDelivery", "lateTimers", "storeErrors", "duplicateSignals",
]

/** How generated activity calls behave: an arbitrary of behaviours, switches for the default one, or `false` (run unchanged). */
export type ActivityBehaviorSpec =
  | fcModule.Arbitrary<ActivityBehavior>
  | false
  | {
    /** Injected retryable failures (`ApplicationFailure` type `InjectedFailure`); default true. */
    readonly retryableFailures?: boolean
    /** Injected non-retryable failures; default true. */
    readonly nonRetryableFailures?: boolean
    /** A few real milliseconds of latency; default true. */
    readonly latency?: boolean
    /** `heartbeat()` calls; default true. */
    readonly heartbeats?: boolean
  }

/** How a checked run ended, as the invariant sees it. */
export type CheckOutcome<R> =
  | { readonly status: "completed"; readonly result: R }
  | { readonly status: "failed" | "cancelled" | "terminated" | "timedOut"; readonly error: WorkflowFailedError }
  /** Still waiting when the run stopped: for a signal never sent, or after `maxWaits` timers. */
  | { readonly status: "running"; readonly reason: string }

/** What the invariant gets besides the outcome and the workflow's history. */
export interface InvariantContext {
  /** Every history of the run: the workflow's, then its children's. */
  readonly histories: ReadonlyArray<WorkflowHistory>
  /** Whether this is the run under faults (the invariant is checked on both runs). */
  readonly underFaults: boolean
}

/** Options of `checkWorkflow`. */
export interface CheckWorkflowOptions<Args extends Array<any>, R> {
  /** The activities the workflow calls: the real ones or stubs. */
  readonly activities?: object
  /** Other workflows it starts as children, by type name (a module namespace works). */
  readonly workflows?: Readonly<Record<string, unknown>>
  /** The workflow's arguments (a tuple); default: none. */
  readonly args?: fcModule.Arbitrary<Args>
  /**
   * Generated behaviour of each activity call, per activity type; `default` applies to the others.
   * Default: mostly the real call, sometimes retryable or non-retryable injected failures, a few ms of latency, heartbeats.
   */
  readonly activityBehavior?: { readonly [activityType: string]: ActivityBehaviorSpec }
  /** Signals to send at generated wait points: the arbitrary of each signal's arguments (a tuple). */
  readonly signals?: { readonly [name: string]: fcModule.Arbitrary<ReadonlyArray<unknown>> }
  /** Queries to make at generated wait points (their answers must be the same with and without faults). */
  readonly queries?: { readonly [name: string]: fcModule.Arbitrary<ReadonlyArray<unknown>> }
  /** Also request cancellation at a generated wait point; default false. */
  readonly cancellation?: boolean
  /** Client events (signals, queries, cancellations) per run, at most; default 4. */
  readonly maxEvents?: number
  /** The last wait point an event may be generated for; default 5. */
  readonly maxWaitPoint?: number
  /** Faults to inject (all on by default); `false` switches all off. */
  readonly faults?: CheckFaults | false
  /** Your own property: return false or throw to fail the run. Checked on the fault-free run and the run under faults. */
  readonly invariant?: (outcome: CheckOutcome<R>, history: WorkflowHistory, context: InvariantContext) => boolean | void
  /**
   * The previous version of the workflow: each run also records it (fault free) and replays every prefix of
   * its history against the new code, as a deploy would resume executions paused at any point.
   */
  readonly previousVersion?: (...args: Args) => Promise<unknown>
  /** Runs; default 100. */
  readonly numRuns?: number
  /** fast-check's seed (printed on failure). */
  readonly seed?: number
  /** fast-check's path: with `seed`, replay the shrunk counterexample a failure printed. */
  readonly path?: string
  /** Stop starting new runs after this long (the summary says so); default none. */
  readonly timeLimit?: Duration
  /** Stop shrinking a failure after this long and report the smallest case so far; default 20 s. */
  readonly shrinkTimeLimit?: Duration
  /** Timer waits after which a workflow still running counts as `running`; default 50. */
  readonly maxWaits?: number
  /** Real ms without progress after which a run is reported as stuck; default 5000. */
  readonly stuckAfterMs?: number
}

/** What a passing check reports. */
export interface CheckSummary {
  readonly workflowType: string
  readonly runs: number
  /** True when `timeLimit` stopped the check before `numRuns`. */
  readonly interrupted: boolean
  readonly seed: number
  readonly elapsedMs: number
  /** Faults injected, by kind, over all runs. */
  readonly faults: Readonly<Record<CheckFaultKind, number>>
  /** Faults injected, by store operation (e.g. `commit crash`). */
  readonly faultDetails: Readonly<Record<string, number>>
  /** Activity attempts that ran again because a fault allowed it (at-least-once). */
  readonly activityReexecutions: number
  /** Outcomes of the fault-free runs, by status. */
  readonly outcomes: Readonly<Record<string, number>>
  /** Client events delivered, by kind. */
  readonly events: Readonly<Record<string, number>>
}

const KNOWN_OPTIONS = new Set([
  "activities", "workflows", "args", "activityBehavior", "signals", "queries", "cancellation", "maxEvents", "maxWaitPoint", "faults",
  "invariant", "previousVersion", "numRuns", "seed", "path", "timeLimit", "shrinkTimeLimit", "maxWaits", "stuckAfterMs",
])

const invalid = (message: string) => new InvalidArgumentError({ message: `checkWorkflow: ${message}` })

/** Load fast-check (an optional peer dependency of `hotmesh/testing`). */
export const loadFastCheck = async (): Promise<FastCheck> => {
  try {
    const module = (await import("fast-check")) as FastCheck & { default?: FastCheck }
    return module.default ?? module
  } catch (error) {
    throw new Error("checkWorkflow needs fast-check, an optional peer dependency of hotmesh/testing: npm install --save-dev fast-check", { cause: error })
  }
}

const functionsOf = (source: object | undefined): Record<string, (...args: Array<any>) => unknown> => {
  const out: Record<string, (...args: Array<any>) => unknown> = {}
  if (source === undefined) return out
  for (const [name, value] of Object.entries(source)) if (typeof value === "function") out[name] = value as (...args: Array<any>) => unknown
  return out
}

const isArbitrary = (value: unknown): value is fcModule.Arbitrary<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { generate?: unknown }).generate === "function"

/** A failed check: `message` is the whole report. */
class CheckFailure extends Error {
  override readonly name = "CheckFailure"
  constructor(readonly title: string, readonly details: string, readonly run: RunRecord | undefined, readonly reference?: RunRecord) {
    super(`${title}${details === "" ? "" : `\n${details}`}`)
  }
}

const DETERMINISM_HINT =
  "Workflow code made different calls than the history records. Common causes: time or randomness read outside the " +
  "deterministic shims — e.g. a reference to Math.random or Date.now saved before the Worker installed them " +
  "(`const random = Math.random` at module level), performance.now(), crypto; module-level state changed by an earlier run; " +
  "a code change without patched(); branching on anything that is not an argument, an activity result, a signal or workflowInfo()."

const showOutcome = (outcome: RunOutcome): string => {
  switch (outcome.status) {
    case "completed":
      return `completed with ${JSON.stringify(outcome.result)}`
    case "running":
      return `still running (${outcome.reason})`
    default: {
      const chain: Array<string> = []
      let error: Error | undefined = outcome.error
      while (error !== undefined && chain.length < 5) {
        chain.push(`${error.name}: ${error.message}`)
        error = error.cause as Error | undefined
      }
      return `${outcome.status}: ${chain.join(" ← ")}`
    }
  }
}

const publicOutcome = <R>(outcome: RunOutcome): CheckOutcome<R> =>
  outcome.status === "completed" ? { status: "completed", result: outcome.result as R } : (outcome as CheckOutcome<R>)

/** The timeline of every workflow of `run`, with markers (faults ⚡, client events ▶, late timers ⏱) in place. */
export const timelineOf = (run: RunRecord): string => {
  const origin = run.histories[0]?.events[0]?.at
  return run.histories.map((history) => {
    const lines = formatHistory(history, origin).split("\n")
    const markers = run.markers.filter((m) => m.workflowId === history.workflowId)
    const out: Array<string> = []
    const pad = " ".repeat(20)
    for (let i = 0; i <= lines.length; i++) {
      for (const m of markers) if (m.after === i || (i === lines.length && m.after > lines.length)) out.push(`${pad}${m.text}`)
      if (i < lines.length) out.push(lines[i]!)
    }
    return `workflow ${history.workflowId} (${history.workflowType})\n${out.join("\n")}`
  }).join("\n\n")
}

const describeBehavior = (b: ActivityBehavior): string => {
  const extra = [b.latencyMs > 0 ? `${b.latencyMs}ms` : "", b.heartbeats > 0 ? `${b.heartbeats} heartbeats` : ""].filter((s) => s !== "").join(", ")
  const what = b.outcome === "ok" ? "runs" : b.outcome === "retryableFailure" ? "retryable failure" : "non-retryable failure"
  return extra === "" ? what : `${what} (${extra})`
}

const describeSchedule = (s: FaultSchedule): string => {
  const list = (name: string, items: ReadonlyArray<string>) => {
    const faults = items.map((f, i) => (f === "none" ? "" : `#${i + 1} ${f}`)).filter((f) => f !== "")
    return faults.length === 0 ? [] : [`${name}: ${faults.join(", ")}`]
  }
  const parts = [
    ...list("commits", s.commits),
    ...list("activity results", s.completes),
    ...list("client appends", s.appends),
    ...list("reads", s.reads.map((r) => r.fault)),
    ...list("timer passes", s.fires),
  ]
  return parts.length === 0 ? "none" : parts.join("; ")
}

/** The generated inputs of a case, readable. */
const describeCase = (c: CheckCase): string => {
  const behaviors = Object.entries(c.behaviors).flatMap(([name, scripts]) =>
    scripts.flatMap((script, call) => {
      const attempts = script.map((b, i) => (b.outcome === "ok" && b.latencyMs === 0 && b.heartbeats === 0 ? "" : `attempt ${i + 1} ${describeBehavior(b)}`)).filter((s) => s !== "")
      return attempts.length === 0 ? [] : [`${name} call #${call + 1}${scripts.length > 1 ? ` (and every ${scripts.length}th after)` : ""}: ${attempts.join(", ")}`]
    }))
  return [
    `  args: ${JSON.stringify(c.args)}`,
    `  client events: ${c.events.length === 0 ? "none" : c.events.map((e) => describeEvent(e) + (e.kind === "signal" && e.resend ? " [the client resends it in the run under faults]" : "")).join("; ")}`,
    `  activity behaviour: ${behaviors.length === 0 ? "every call runs the activity" : behaviors.join("; ")}`,
    `  timer lateness: ${c.lateness.some((l) => l > 0) ? c.lateness.map(formatMs).join(", ") : "none"}`,
    `  fault schedule: ${describeSchedule(c.schedule)}`,
  ].join("\n")
}

/**
 * Property-test `workflow`: resolves with a summary when every generated run
 * passes; rejects with an `Error` whose message is the shrunk counterexample
 * (timeline with injected faults, generated inputs, reproduction).
 */
export async function checkWorkflow<Args extends Array<any>, R>(
  workflow: (...args: Args) => Promise<R>,
  options: CheckWorkflowOptions<Args, R> = {},
): Promise<CheckSummary> {
  if (typeof workflow !== "function" || workflow.name === "") throw invalid("the workflow must be a named function")
  for (const key of Object.keys(options)) {
    if (key === "updates") {
      throw invalid("the `updates` option is not supported: HotMesh has no workflow updates yet (they will be added with updates themselves). Remove it, or send signals and queries instead.")
    }
    if (!KNOWN_OPTIONS.has(key)) throw invalid(`unknown option \`${key}\` (known: ${[...KNOWN_OPTIONS].join(", ")})`)
  }
  const faultsOption = options.faults ?? {}
  if (faultsOption !== false) {
    for (const key of Object.keys(faultsOption)) if (!FAULT_KINDS.includes(key as CheckFaultKind)) throw invalid(`unknown fault \`${key}\` (known: ${FAULT_KINDS.join(", ")})`)
  }
  const on = (kind: CheckFaultKind): boolean => faultsOption !== false && faultsOption[kind] !== false
  const activities = functionsOf(options.activities)
  for (const name of Object.keys(options.activityBehavior ?? {})) {
    if (name !== "default" && !(name in activities)) throw invalid(`activityBehavior names \`${name}\`, which is not one of the activities (${Object.keys(activities).join(", ") || "none"})`)
  }
  const positive = (value: number | undefined, fallback: number, name: string) => {
    const n = value ?? fallback
    if (!Number.isInteger(n) || n < 0) throw invalid(`${name} must be a non-negative integer; got ${value}`)
    return n
  }
  const numRuns = positive(options.numRuns, 100, "numRuns")
  const maxEvents = positive(options.maxEvents, 4, "maxEvents")
  const maxWaitPoint = positive(options.maxWaitPoint, 5, "maxWaitPoint")
  const maxWaits = positive(options.maxWaits, 50, "maxWaits")
  const stuckAfterMs = positive(options.stuckAfterMs, 5000, "stuckAfterMs")
  const timeLimitMs = options.timeLimit === undefined ? undefined : toMillis(options.timeLimit, "timeLimit")
  const shrinkTimeLimitMs = toMillis(options.shrinkTimeLimit ?? "20s", "shrinkTimeLimit")
  const workflowType = workflow.name
  const workflows: Record<string, WorkflowFunction> = { ...(functionsOf(options.workflows) as Record<string, WorkflowFunction>), [workflowType]: workflow as WorkflowFunction }
  const fc = await loadFastCheck()

  // --- arbitraries -----------------------------------------------------------
  const behaviorOf = (spec: ActivityBehaviorSpec | undefined): fcModule.Arbitrary<ActivityBehavior> | undefined => {
    if (spec === false) return undefined
    if (isArbitrary(spec)) return spec
    const o = spec ?? {}
    const outcomes: Array<{ weight: number; arbitrary: fcModule.Arbitrary<ActivityBehavior["outcome"]> }> = [{ weight: 6, arbitrary: fc.constant("ok" as const) }]
    if (o.retryableFailures !== false) outcomes.push({ weight: 3, arbitrary: fc.constant("retryableFailure" as const) })
    if (o.nonRetryableFailures !== false) outcomes.push({ weight: 1, arbitrary: fc.constant("nonRetryableFailure" as const) })
    return fc.record({
      outcome: fc.oneof(...outcomes),
      latencyMs: o.latency === false ? fc.constant(0) : fc.constantFrom(0, 0, 0, 1, 5, 15),
      heartbeats: o.heartbeats === false ? fc.constant(0) : fc.constantFrom(0, 0, 1, 3),
    })
  }
  const behaviorsArb = fc.record(Object.fromEntries(Object.keys(activities).map((name) => {
    const behavior = behaviorOf(options.activityBehavior?.[name] ?? options.activityBehavior?.["default"])
    return [name, behavior === undefined ? fc.constant([]) : fc.array(fc.array(behavior, { maxLength: 4 }), { maxLength: 3 })]
  }))) as fcModule.Arbitrary<Record<string, ReadonlyArray<ReadonlyArray<ActivityBehavior>>>>
  // Biased to the first wait point: later ones may come after the workflow closed.
  const point = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.nat({ max: maxWaitPoint }) })
  const eventArbs: Array<fcModule.Arbitrary<ClientEvent>> = [
    ...Object.entries(options.signals ?? {}).map(([name, args]) =>
      fc.record({
        kind: fc.constant("signal" as const),
        point,
        name: fc.constant(name),
        args: args.map((a) => [...a]),
        resend: on("duplicateSignals") ? fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) : fc.constant(false),
      })),
    ...Object.entries(options.queries ?? {}).map(([name, args]) =>
      fc.record({ kind: fc.constant("query" as const), point, name: fc.constant(name), args: args.map((a) => [...a]) })),
    ...(options.cancellation === true ? [fc.record({ kind: fc.constant("cancel" as const), point })] : []),
  ]
  const eventsArb = eventArbs.length === 0 || maxEvents === 0
    ? fc.constant([] as Array<ClientEvent>)
    : fc.array(fc.oneof(...eventArbs), { maxLength: maxEvents }).map((events) => [...events].sort((a, b) => a.point - b.point))
  const kinds: FaultKinds = {
    commits: [...(on("duplicateDeliveries") ? ["duplicate" as const] : []), ...(on("lostAcks") ? ["lostAck" as const] : []), ...(on("lostCommitReplies") ? ["lostResponse" as const] : []), ...(on("crashes") ? ["crash" as const] : [])],
    completes: [...(on("duplicateDeliveries") ? ["duplicate" as const] : []), ...(on("lostAcks") ? ["lostAck" as const] : []), ...(on("crashes") ? ["crash" as const] : [])],
    appends: on("duplicateDeliveries"),
    reads: [...(on("reorderedDelivery") ? ["shuffle" as const, "shuffleKeys" as const, "delay" as const] : []), ...(on("duplicateDeliveries") ? ["redeliver" as const] : [])],
    timers: false,
    fires: on("lateTimers"),
  }
  const caseArb: fcModule.Arbitrary<CheckCase> = fc.record({
    args: (options.args ?? fc.constant([] as unknown as Args)) as fcModule.Arbitrary<ReadonlyArray<unknown>>,
    events: eventsArb,
    behaviors: behaviorsArb,
    lateness: on("lateTimers") ? fc.array(fc.constantFrom(0, 1, 1000, 60_000, 86_400_000), { maxLength: 3 }) : fc.constant([]),
    schedule: faultScheduleArb(fc, { storeErrors: on("storeErrors"), kinds }),
    runSeed: fc.nat(),
  })

  // --- the property ----------------------------------------------------------
  const faultTotals: Record<string, number> = {}
  const outcomes: Record<string, number> = {}
  const events: Record<string, number> = {}
  let reexecutions = 0
  let runs = 0
  let detections: Array<NonDeterministicCall> = []
  let runIds = new Set<string>()
  let firstFailureAt: number | undefined
  const stop = detectNonDeterminism((call) => {
    if ([...runIds].some((id) => call.runId === id || call.runId.startsWith(`${id}.`))) detections.push(call)
  })
  const settings = (runId: string, faulty: boolean) => ({
    workflowType,
    workflows,
    activities,
    faulty,
    evictions: faulty && on("cacheEviction"),
    duplicateSignals: on("duplicateSignals"),
    maxWaits,
    stuckAfterMs,
    runId,
  })
  const evictionsOrDuplicates = (run: RunRecord) =>
    Object.keys(run.faults).some((f) => /^(complete|read|commit) (duplicate|lostAck|crash|storeError|redeliver|lostResponse)/.test(f))

  const check = async (c: CheckCase): Promise<void> => {
    const runId = uuidFrom(makeRandom(`checkWorkflow-${c.runSeed}`))
    detections = []
    runIds = new Set([runId])
    const run = async (faulty: boolean, label: string): Promise<RunRecord> => {
      try {
        return await runCase(c, settings(runId, faulty))
      } catch (error) {
        if (error instanceof StuckError) throw new CheckFailure(`The ${label} run got stuck: ${error.message}.`, "", undefined)
        throw error
      }
    }
    const [reference, faulty] = await Promise.all([run(false, "fault-free"), run(true, "faulty")])
    runs++
    const detected = detections[0]
    if (detected !== undefined) {
      const failing = reference.taskFailures.length > 0 ? reference : faulty
      throw new CheckFailure(
        `Non-deterministic call in workflow code: ${detected.workflowType} (${detected.workflowId}) called ${detected.call}.`,
        `  ${detected.advice}.`,
        failing,
      )
    }
    for (const [label, r] of [["fault-free", reference], ["faulty", faulty]] as const) {
      const failure = r.taskFailures[0]
      if (failure !== undefined) {
        const hint = failure.startsWith("DeterminismViolationError") ? `\n  ${DETERMINISM_HINT}` : ""
        throw new CheckFailure(`A workflow task failed in the ${label} run: ${failure}`, hint.trimStart() === "" ? "" : hint, r, reference)
      }
    }
    for (const [label, r] of [["fault-free", reference], ["faulty", faulty]] as const) {
      const problems = checkJournals(r)
      if (problems.length > 0) throw new CheckFailure(`The ${label} run's journal is wrong: ${problems[0]}`, problems.slice(1).map((p) => `  ${p}`).join("\n"), r, reference)
    }
    const referenceActivities = checkInvocations(reference, false)
    if (referenceActivities.problems.length > 0) throw new CheckFailure(`Activity invocations do not match the journal (fault-free run): ${referenceActivities.problems.join("; ")}`, "", reference)
    const faultyActivities = checkInvocations(faulty, evictionsOrDuplicates(faulty))
    if (faultyActivities.problems.length > 0) throw new CheckFailure(`Activity invocations do not match the journal (run under faults): ${faultyActivities.problems.join("; ")}`, "", faulty, reference)
    const same = showOutcome(reference.outcome) === showOutcome(faulty.outcome) && JSON.stringify(reference.observations) === JSON.stringify(faulty.observations)
    if (!same) {
      // Faults, or state outside the run? More fault-free runs with the same inputs tell them apart.
      let again = reference
      let reproducible = true
      for (let i = 0; i < 3 && reproducible; i++) {
        again = await run(false, "another fault-free")
        reproducible = showOutcome(again.outcome) === showOutcome(reference.outcome) && JSON.stringify(again.observations) === JSON.stringify(reference.observations)
      }
      const diff = [
        `  fault-free:  ${showOutcome(reference.outcome)}`,
        `  ${reproducible ? "with faults" : "run again  "}: ${showOutcome((reproducible ? faulty : again).outcome)}`,
        ...reference.observations.map((o, i) => {
          const other = (reproducible ? faulty : again).observations[i]
          return o === other ? "" : `  fault-free: ${o}\n  ${reproducible ? "with faults" : "run again  "}: ${other ?? "(none)"}`
        }).filter((s) => s !== ""),
      ].join("\n")
      if (!reproducible) {
        throw new CheckFailure(
          "Two fault-free runs with the same inputs ended differently: the workflow depends on state outside its run — module-level state changed by an earlier run, or time or randomness read outside the deterministic shims (e.g. a reference to Math.random or Date.now saved at import).",
          diff,
          again,
          reference,
        )
      }
      throw new CheckFailure(
        "Under faults the workflow ended differently than without them (same inputs).",
        `${diff}\n  If no fault marked on the timeline explains it, look for state outside the run: time or randomness read outside the deterministic shims (e.g. a saved reference to Math.random), module-level state.`,
        faulty,
        reference,
      )
    }
    if (options.invariant !== undefined) {
      for (const [label, r] of [["fault-free", reference], ["faulty", faulty]] as const) {
        const root = r.histories[0]!
        let verdict: boolean | void
        try {
          verdict = options.invariant(publicOutcome<R>(r.outcome), root, { histories: r.histories, underFaults: r === faulty })
        } catch (error) {
          throw new CheckFailure(`The invariant threw in the ${label} run: ${(error as Error)?.message ?? String(error)}`, `  outcome: ${showOutcome(r.outcome)}`, r, reference)
        }
        if (verdict === false) throw new CheckFailure(`The invariant returned false in the ${label} run.`, `  outcome: ${showOutcome(r.outcome)}`, r, reference)
      }
    }
    for (const history of faulty.histories) {
      const failed = await replayPrefixes(workflows, history)
      if (failed !== undefined) {
        const call = detections[0]
        throw new CheckFailure(
          call !== undefined
            ? `Non-deterministic call in workflow code: ${call.workflowType} (${call.workflowId}) called ${call.call} during replay.`
            : `Replaying the first ${failed.tasks} workflow tasks of ${history.workflowId} does not make the recorded calls: ${failed.error.name}: ${failed.error.message}`,
          call !== undefined ? `  ${call.advice}.` : `  ${DETERMINISM_HINT}`,
          faulty,
          reference,
        )
      }
    }
    if (options.previousVersion !== undefined) {
      const previousRunId = uuidFrom(makeRandom(`checkWorkflow-previous-${c.runSeed}`))
      runIds.add(previousRunId)
      const previous = await runCase(c, { ...settings(previousRunId, false), workflows: { ...workflows, [workflowType]: options.previousVersion as WorkflowFunction } })
      for (const history of previous.histories.filter((h) => h.workflowType === workflowType)) {
        const failed = await replayPrefixes(workflows, history)
        if (failed !== undefined) {
          throw new CheckFailure(
            `The new code cannot resume an execution of the previous version paused after workflow task ${failed.tasks}: ${failed.error.name}: ${failed.error.message}`,
            "  Guard the change with patched(), so executions that started on the previous version keep its path. (Timeline: the previous version's run.)",
            previous,
          )
        }
      }
    }
    reexecutions += faultyActivities.duplicates
    for (const [fault, n] of Object.entries(faulty.faults)) faultTotals[fault] = (faultTotals[fault] ?? 0) + n
    outcomes[reference.outcome.status] = (outcomes[reference.outcome.status] ?? 0) + 1
    for (const e of c.events) events[e.kind] = (events[e.kind] ?? 0) + 1
  }

  const property = fc.asyncProperty(caseArb, async (c) => {
    // Shrinking is bounded: past the budget, candidates are skipped (reported as passing) and the smallest failure so far stands.
    if (firstFailureAt !== undefined && Date.now() - firstFailureAt > shrinkTimeLimitMs) return
    try {
      await check(c)
    } catch (error) {
      firstFailureAt ??= Date.now()
      throw error
    }
  })
  const started = Date.now()
  const seed = options.seed ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) | 0)
  let details: fcModule.RunDetails<[CheckCase]>
  try {
    details = await fc.check(property, {
      numRuns,
      seed,
      ...(options.path === undefined ? {} : { path: options.path }),
      ...(timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: timeLimitMs }),
    })
  } finally {
    stop()
  }
  if (details.failed) {
    const error = details.errorInstance
    const [c] = details.counterexample ?? []
    const path = details.counterexamplePath ?? ""
    const reproduce = `Reproduce: checkWorkflow(${workflowType}, { ...sameOptions, seed: ${details.seed}, path: "${path}" })`
    const head = `checkWorkflow(${workflowType}) failed after ${details.numRuns} run${details.numRuns === 1 ? "" : "s"} (shrunk ${details.numShrinks} time${details.numShrinks === 1 ? "" : "s"}).`
    if (!(error instanceof CheckFailure)) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      throw new Error(`${head}\n${message}\n\nGenerated inputs:\n${c === undefined ? "  (none)" : describeCase(c)}\n\n${reproduce}`, { cause: error })
    }
    const sections = [
      `${head}\n${error.message}`,
      `Generated inputs:\n${c === undefined ? "  (none)" : describeCase(c)}`,
      ...(error.run === undefined ? [] : [`Timeline of the failing run (⚡ injected fault, ▶ client event, ⏱ late timer):\n${timelineOf(error.run)}`]),
      reproduce,
    ]
    throw new Error(sections.join("\n\n"), { cause: error })
  }
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<CheckFaultKind, number>
  for (const [fault, n] of Object.entries(faultTotals)) {
    const kind = FAULT_KIND[fault] as CheckFaultKind | undefined
    if (kind !== undefined) faults[kind] += n
  }
  return {
    workflowType,
    runs,
    interrupted: details.interrupted,
    seed,
    elapsedMs: Date.now() - started,
    faults,
    faultDetails: faultTotals,
    activityReexecutions: reexecutions,
    outcomes,
    events,
  }
}

/** An activity call as a history records it (for invariants such as "charged at most once"). */
export interface ActivityCall {
  readonly seq: number
  readonly activityType: string
  readonly args: ReadonlyArray<unknown>
  /** Attempts recorded so far (1 + retries). */
  readonly attempts: number
  readonly status: "completed" | "failed" | "pending"
  readonly result?: unknown
  readonly failure?: string
}

/** The activity calls `history` records, in order. */
export const activityCalls = (history: WorkflowHistory): Array<ActivityCall> => {
  const calls: Array<ActivityCall> = []
  for (const e of history.events) {
    if (e.type !== "ActivityScheduled") continue
    const retries = history.events.filter((r) => r.type === "ActivityRetrying" && r.seq === e.seq).length
    const end = history.events.find((x) => (x.type === "ActivityCompleted" || x.type === "ActivityFailed") && x.seq === e.seq)
    calls.push({
      seq: e.seq,
      activityType: e.activityType,
      args: decodeArgs(e.args),
      attempts: retries + 1,
      status: end === undefined ? "pending" : end.type === "ActivityCompleted" ? "completed" : "failed",
      ...(end?.type === "ActivityCompleted" ? { result: decode(end.result) } : {}),
      ...(end?.type === "ActivityFailed" ? { failure: describeFailure(end.failure) } : {}),
    })
  }
  return calls
}
