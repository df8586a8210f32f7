/**
 * Deterministic time and randomness inside workflow code, like Temporal's
 * sandbox: while code runs on behalf of a workflow run (the workflow context
 * is set), `Date.now()`, `new Date()` and `Math.random()` return the
 * activation's journaled time and the run's seeded PRNG. Everywhere else —
 * activities, your application — they are untouched.
 *
 * Installed once, by the first `Worker` of the process (not on import).
 */
import { createRequire, syncBuiltinESMExports } from "node:module"
import { storage } from "./context.ts"

let installed = false

/** The real `Date` constructor (not the deterministic proxy): for the runtime's own dates, which pass their time explicitly. */
export const RealDate: DateConstructor = Date

/** Patch `Date` and `Math.random` to be deterministic inside workflow code. Idempotent. */
export const installDeterminism = (): void => {
  if (installed) return
  installed = true
  const realNow = Date.now.bind(Date)
  const realRandom = Math.random.bind(Math)
  const workflowNow = (): number | undefined => storage.getStore()?.run.info.currentTime.getTime()
  const DeterministicDate = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      if (args.length === 0) {
        const now = workflowNow()
        if (now !== undefined) return Reflect.construct(target, [now], newTarget)
      }
      return Reflect.construct(target, args, newTarget)
    },
    apply(target, thisArg, args) {
      const now = workflowNow()
      return now === undefined ? Reflect.apply(target, thisArg, args) : new RealDate(now).toString()
    },
  })
  RealDate.now = () => workflowNow() ?? realNow()
  globalThis.Date = DeterministicDate
  Math.random = () => storage.getStore()?.run.random() ?? realRandom()
}

// ---------------------------------------------------------------------------
// The non-determinism detector (test environments only).

/** A call workflow code made that a replay cannot reproduce. */
export interface NonDeterministicCall {
  /** What was called, e.g. `setTimeout()` or `fs.promises.readFile()`. */
  readonly call: string
  /** What to use instead. */
  readonly advice: string
  readonly workflowId: string
  readonly workflowType: string
  readonly runId: string
}

/** Thrown into workflow code that makes a trapped call while a detector is on (it fails the workflow task). */
export class NonDeterminismDetectedError extends Error {
  override readonly name = "NonDeterminismDetectedError"
  constructor(readonly detected: NonDeterministicCall) {
    super(`workflow ${detected.workflowType} (${detected.workflowId}) called ${detected.call} in workflow code: ${detected.advice}`)
  }
}

const listeners = new Set<(call: NonDeterministicCall) => void>()
let trapsInstalled = false

const guard = (call: string, advice: string): void => {
  if (listeners.size === 0) return
  const context = storage.getStore()
  if (context === undefined) return
  const { workflowId, workflowType, runId } = context.run.info
  const detected: NonDeterministicCall = { call, advice, workflowId, workflowType, runId }
  for (const listener of listeners) listener(detected)
  throw new NonDeterminismDetectedError(detected)
}

const TRAPPED = Symbol.for("hotmesh.nonDeterminismTrap")

/** Replace `target[key]` (a function) by one that calls `guard` first; keeps its own properties (e.g. `promisify.custom`). */
const trap = (target: object | undefined, key: string, call: string, advice: string): void => {
  if (target === undefined) return
  const holder = target as Record<string, unknown>
  const original = holder[key]
  if (typeof original !== "function" || (original as { [TRAPPED]?: boolean })[TRAPPED] === true) return
  const fn = original as (...args: Array<unknown>) => unknown
  // A method (not an arrow): `this` is passed through, and it has no `prototype` to clash with.
  const wrapped = {
    [key](this: unknown, ...args: Array<unknown>): unknown {
      guard(call, advice)
      return Reflect.apply(fn, this, args)
    },
  }[key]!
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(fn))) {
    if (name === "length" || name === "name" || name === "prototype") continue
    Object.defineProperty(wrapped, name, descriptor)
  }
  for (const symbol of Object.getOwnPropertySymbols(fn)) {
    Object.defineProperty(wrapped, symbol, Object.getOwnPropertyDescriptor(fn, symbol)!)
  }
  Object.defineProperty(wrapped, TRAPPED, { value: true })
  try {
    Object.defineProperty(holder, key, { value: wrapped, writable: true, configurable: true, enumerable: Object.getOwnPropertyDescriptor(holder, key)?.enumerable ?? true })
  } catch {
    // A frozen or non-configurable property: left alone (documented as not detected).
  }
}

const TIMER = "timers are not durable and do not replay; use sleep() or condition(fn, timeout) from hotmesh/workflow"
const CLOCK = "the real clock differs on replay; use Date.now() / new Date() (deterministic in workflow code) or workflowInfo().currentTime"
const RANDOM = "real randomness differs on replay; use Math.random() (deterministic in workflow code) or uuid4() from hotmesh/workflow"
const IO = "I/O in workflow code is not journaled and does not replay; do it in an activity"

/** Install the traps (once, on first use; they do nothing while no detector is on). */
const installTraps = (): void => {
  if (trapsInstalled) return
  trapsInstalled = true
  const require = createRequire(import.meta.url)
  const g = globalThis as unknown as Record<string, object | undefined>
  for (const name of ["setTimeout", "setInterval", "setImmediate"]) trap(g, name, `${name}()`, TIMER)
  const timers = require("node:timers") as Record<string, unknown>
  for (const name of ["setTimeout", "setInterval", "setImmediate"]) trap(timers, name, `${name}()`, TIMER)
  const timersPromises = require("node:timers/promises") as Record<string, unknown>
  for (const name of ["setTimeout", "setInterval", "setImmediate"]) trap(timersPromises, name, `timers/promises ${name}()`, TIMER)
  trap(g.performance, "now", "performance.now()", CLOCK)
  const hrtime = process.hrtime
  trap(hrtime, "bigint", "process.hrtime.bigint()", CLOCK)
  trap(process, "hrtime", "process.hrtime()", CLOCK)
  const crypto = require("node:crypto") as Record<string, unknown>
  for (const name of ["randomUUID", "randomBytes", "randomInt", "randomFill", "randomFillSync", "getRandomValues"]) trap(crypto, name, `crypto.${name}()`, RANDOM)
  for (const name of ["randomUUID", "getRandomValues"]) trap(g.crypto, name, `crypto.${name}()`, RANDOM)
  trap(g, "fetch", "fetch()", IO)
  const fs = require("node:fs") as Record<string, unknown>
  const fsPromises = require("node:fs/promises") as Record<string, unknown>
  for (const [name, value] of Object.entries(fs)) {
    if (typeof value === "function" && /^[a-z]/.test(name)) trap(fs, name, `fs.${name}()`, IO)
  }
  for (const [name, value] of Object.entries(fsPromises)) {
    if (typeof value === "function" && /^[a-z]/.test(name)) trap(fsPromises, name, `fs.promises.${name}()`, IO)
  }
  const net = require("node:net") as { Socket: { prototype: object } } & Record<string, unknown>
  trap(net.Socket.prototype, "connect", "net.Socket.connect()", IO)
  for (const name of ["connect", "createConnection"]) trap(net, name, `net.${name}()`, IO)
  for (const module of ["http", "https"]) {
    const m = require(`node:${module}`) as Record<string, unknown>
    for (const name of ["request", "get"]) trap(m, name, `${module}.${name}()`, IO)
  }
  const dns = require("node:dns") as Record<string, unknown> & { promises: Record<string, unknown> }
  for (const name of ["lookup", "resolve", "resolve4", "resolve6"]) {
    trap(dns, name, `dns.${name}()`, IO)
    trap(dns.promises, name, `dns.promises.${name}()`, IO)
  }
  // ES module imports of these builtins (`import { readFile } from "node:fs/promises"`) see the traps too.
  syncBuiltinESMExports()
}

/**
 * Turn the non-determinism detector on until the returned function is called:
 * while it is on, workflow code (code running in a workflow's context) that
 * calls a timer, the real clock or randomness outside the deterministic shims,
 * or file, network or DNS I/O is reported to `listener`, and the call throws
 * `NonDeterminismDetectedError` (failing the workflow task). Code outside
 * workflows — activities, the worker, your tests — is unaffected.
 */
export const detectNonDeterminism = (listener: (call: NonDeterministicCall) => void): (() => void) => {
  installDeterminism()
  installTraps()
  listeners.add(listener)
  return () => void listeners.delete(listener)
}
