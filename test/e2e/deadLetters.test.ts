/**
 * Hostile and broken messages, end to end: a message that can never be
 * decoded is dead-lettered at once (not after maxDeliveries), with the
 * reason and the whole original entry; operators reach the dead letters
 * through `client.deadLetters` (list, retry, purge); a malformed signal is
 * logged naming its workflow; a step whose store calls keep failing gives its
 * message back after a bounded number of retries, so it holds up neither
 * the workflows behind it nor `worker.shutdown()`.
 */
import { DeadLetterNotFoundError, InvalidArgumentError, Store, StoreError, Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { Effect } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { MESSAGE_STORE_RETRIES } from "../../src/effects/storeRetry.ts"
import { eventually, rejectionOf, unique, within } from "../fixtures/e2e-support.ts"
import { activities, add, doubler, finish, summer } from "../fixtures/served-workflows.ts"

let env: TestWorkflowEnvironment | undefined
let worker: Worker | undefined
let running: Promise<void> | undefined

const start = async (
  options: Parameters<typeof TestWorkflowEnvironment.createTimeSkipping>[0] = {},
  workerOptions: { shutdownGraceTime?: number } = {},
  clock: "virtual" | "real" = "virtual",
) => {
  env = clock === "virtual" ? await TestWorkflowEnvironment.createTimeSkipping(options) : await TestWorkflowEnvironment.createLocal(options)
  worker = await Worker.create({ connection: env.connection, taskQueue: "dlq", workflows: { summer, doubler }, activities, ...workerOptions })
  running = worker.run()
  return { env, worker }
}

afterEach(async () => {
  await worker?.shutdown()
  await running
  await env?.teardown()
  env = worker = running = undefined
  vi.restoreAllMocks()
})

const append = (e: TestWorkflowEnvironment, kind: "workflow" | "activity", key: string, body: string) =>
  e.connection.run(Store.use((store) => store.append([{ stream: { kind, taskQueue: "dlq" }, key, body }])))

describe("dead letters", () => {
  it("a message that can never be decoded is dead-lettered at once, with the reason and the original entry", async () => {
    // maxDeliveries 1000: only an immediate dead-lettering can park these within the test.
    const { env } = await start({ store: { maxDeliveries: 1000 } })
    const bodies = [
      JSON.stringify({ type: "Start" }),
      "{\"type\":\"Signal\",\"signalId\":",
      JSON.stringify({ type: "TimerFired", runId: "r", timer: { kind: "sleep", seq: "one" } }),
      JSON.stringify({ type: "FromTheFuture" }),
    ]
    for (const body of bodies) await append(env, "workflow", "hostile", body)
    await append(env, "activity", "hostile", JSON.stringify({ activityType: "double", workflowId: "hostile" }))
    const dead = await eventually(async () => {
      const list = await env.client.deadLetters.list({ taskQueue: "dlq" })
      return list.length === bodies.length + 1 ? list : undefined
    }, "five dead letters")
    const workflowDead = dead.filter((d) => d.kind === "workflow")
    expect(workflowDead.map((d) => d.body).sort()).toEqual([...bodies].sort())
    for (const d of dead) {
      expect(d.workflowId).toBe("hostile")
      expect(d.taskQueue).toBe("dlq")
      expect(d.deliveries).toBe(1)
      expect(d.deadLetteredAt).toBeInstanceOf(Date)
    }
    const reasonOf = (body: string) => dead.find((d) => d.body === body)!.reason
    expect(reasonOf(bodies[0]!)).toMatch(/workflowId/)
    expect(reasonOf(bodies[1]!)).toMatch(/not JSON/)
    expect(reasonOf(bodies[2]!)).toMatch(/seq/)
    expect(reasonOf(bodies[3]!)).toMatch(/unknown type "FromTheFuture"/)
    expect(dead.find((d) => d.kind === "activity")!.reason).toMatch(/invalid activity task/)
    // The worker carries on.
    expect(await env.client.workflow.execute(doubler, { taskQueue: "dlq", workflowId: unique("after"), args: [21] })).toBe(42)
  })

  it("a malformed signal to a live workflow is logged, naming the workflow and what was wrong", async () => {
    const lines: Array<string> = []
    for (const method of ["log", "info", "warn", "error"] as const) {
      const original = console[method].bind(console)
      vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) => {
        lines.push(args.map(String).join(" "))
        original(...args)
      })
    }
    const { env } = await start()
    const id = unique("signalled")
    const handle = await env.client.workflow.start(summer, { taskQueue: "dlq", workflowId: id })
    await append(env, "workflow", id, JSON.stringify({ type: "Signal", signalId: "s1", name: "add", args: 5 }))
    const line = await eventually(() => lines.find((l) => l.includes("malformed signal")), "the warning")
    expect(line).toContain(id)
    expect(line).toMatch(/args/)
    await handle.signal(add, 2)
    await handle.signal(finish)
    expect(await handle.result()).toBe(2)
    const [letter] = await env.client.deadLetters.list({ taskQueue: "dlq", kind: "workflow" })
    expect(letter?.workflowId).toBe(id)
  })

  it("retry puts the original message back on its stream; purge deletes; bad input is a typed error", async () => {
    const { env } = await start()
    // A workflow on a queue no worker reads yet; an operator parks its (good) signal, as a
    // sick worker's maxDeliveries would.
    const id = unique("revived")
    const late = { kind: "workflow" as const, taskQueue: "dlq-late" }
    const handle = await env.client.workflow.start(summer, { taskQueue: "dlq-late", workflowId: id })
    const good = JSON.stringify({ type: "Signal", signalId: "s-good", name: "add", args: ["7"] })
    await env.connection.run(Effect.gen(function* () {
      const store = yield* Store
      yield* store.append([{ stream: late, key: id, body: good }])
      const taken = yield* store.read(late, { consumer: "operator", count: 10, blockMs: 0 })
      for (const delivery of taken) {
        if (delivery.body === good) yield* store.deadLetter(delivery, "parked by the operator")
        else yield* store.release([delivery])
      }
    }))
    const [parked, ...others] = await env.client.deadLetters.list({ taskQueue: "dlq-late" })
    expect(others).toEqual([])
    expect(parked).toMatchObject({ body: good, reason: "parked by the operator", kind: "workflow", workflowId: id, deliveries: 1 })

    await env.client.deadLetters.retry(parked!)
    expect(await env.client.deadLetters.list({ taskQueue: "dlq-late" })).toEqual([])
    expect(await rejectionOf(env.client.deadLetters.retry(parked!))).toBeInstanceOf(DeadLetterNotFoundError)
    // A worker for that queue now gets the signal like any other message.
    const lateWorker = await Worker.create({ connection: env.connection, taskQueue: "dlq-late", workflows: { summer } })
    const result = await lateWorker.runUntil(async () => {
      await handle.signal(finish)
      return await handle.result()
    })
    expect(result).toBe(7)

    await append(env, "workflow", id, "garbage")
    await append(env, "workflow", id, "more garbage")
    const [garbage] = await eventually(async () => {
      const list = await env.client.deadLetters.list({ taskQueue: "dlq", kind: "workflow" })
      return list.length === 2 ? list : undefined
    }, "the garbage dead-lettered")
    expect(await env.client.deadLetters.purge({ taskQueue: "dlq", kind: "workflow", ids: ["nope"] })).toBe(0)
    expect(await env.client.deadLetters.purge({ taskQueue: "dlq", kind: "workflow", ids: [garbage!.id] })).toBe(1)
    expect((await env.client.deadLetters.list({ taskQueue: "dlq" })).map((d) => d.body)).toEqual(["more garbage"])
    expect(await env.client.deadLetters.purge({ taskQueue: "dlq" })).toBe(1)
    expect(await env.client.deadLetters.list({ taskQueue: "dlq" })).toEqual([])

    await expect(env.client.deadLetters.list({ taskQueue: "" })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(env.client.deadLetters.list({ taskQueue: "dlq", kind: "timers" as never })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(env.client.deadLetters.retry({ taskQueue: "dlq", kind: "workflow", id: "" })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(env.client.deadLetters.purge({ taskQueue: "dlq", ids: ["x"] })).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe("store errors inside a step", () => {
  it("are retried a bounded number of times: the workflows behind a stuck one finish, and shutdown keeps its grace", async () => {
    // Failed commits of the stuck workflow's step, per delivery of its message (a streak), and the delivery counts seen.
    const streaks: Array<number> = []
    const counts = new Set<number>()
    let lastAck: unknown
    const { env, worker } = await start(
      {
        wrapStore: (memory) => ({
          ...memory,
          commit: (c) => {
            if (c.key !== "stuck" || c.ack === undefined) return memory.commit(c)
            if (c.ack !== lastAck) {
              lastAck = c.ack
              streaks.push(0)
            }
            streaks[streaks.length - 1]!++
            counts.add(c.ack.deliveries)
            return Effect.fail(new StoreError({ operation: "commit", message: "injected: the store keeps failing for this key" }))
          },
        }),
      },
      { shutdownGraceTime: 0 },
    )
    await env.client.workflow.start(doubler, { taskQueue: "dlq", workflowId: "stuck", args: [1] })
    // Workflows started after it finish while its step keeps hitting store errors.
    for (let i = 1; i <= 1; i++) {
      expect(await env.client.workflow.execute(doubler, { taskQueue: "dlq", workflowId: unique("behind"), args: [i] })).toBe(2 * i)
    }
    // A whole streak: the first try, the slow path's try and its bounded retries; then the
    // message was given back and delivered again — uncounted (the store failed, not the
    // message), so however long the store fails it is never dead-lettered for it.
    await eventually(() => (streaks.length > 1 ? true : undefined), "a second delivery", 20_000)
    expect(streaks[0]).toBe(MESSAGE_STORE_RETRIES + 2)
    expect([...counts]).toEqual([1])
    // Shut down in the middle of a streak: it returns without waiting the streak out.
    const streak = await eventually(() => (streaks[streaks.length - 1] === 2 ? streaks.length - 1 : undefined), "a retry streak under way", 20_000)
    await within(worker.shutdown(), 5000, "shutdown")
    expect(streaks[streak]).toBeLessThan(MESSAGE_STORE_RETRIES + 2)
    expect(await env.client.deadLetters.list({ taskQueue: "dlq" })).toEqual([])
    expect(worker.getState()).toBe("STOPPED")
  })

  it("a bug inside a store call is a defect, not a store error: tried once per delivery, dead-lettered after maxDeliveries", async () => {
    const commits = new Map<number, number>()
    let reads = 0
    // Real time, with a short visibility timeout: each re-delivery waits it out.
    const { env } = await start({
      store: { maxDeliveries: 3, visibilityTimeoutMs: 100 },
      wrapStore: (memory) => ({
        ...memory,
        // The first read of each stream hits a bug: the loops log it and read again.
        read: (stream, options) => (++reads <= 2 ? Effect.sync(() => {
          throw new TypeError("a bug in read")
        }) : memory.read(stream, options)),
        commit: (c) => {
          if (c.key !== "buggy" || c.ack === undefined) return memory.commit(c)
          commits.set(c.ack.deliveries, (commits.get(c.ack.deliveries) ?? 0) + 1)
          return Effect.sync(() => {
            throw new TypeError("a bug in commit")
          })
        },
      }),
    }, {}, "real")
    await env.client.workflow.start(doubler, { taskQueue: "dlq", workflowId: "buggy", args: [1] })
    expect(await env.client.workflow.execute(doubler, { taskQueue: "dlq", workflowId: unique("fine"), args: [4] })).toBe(8)
    const [letter] = await eventually(async () => {
      const list = await env.client.deadLetters.list({ taskQueue: "dlq", kind: "workflow" })
      return list.length > 0 ? list : undefined
    }, "the buggy step's message dead-lettered", 20_000)
    expect(letter).toMatchObject({ workflowId: "buggy", deliveries: 3 })
    expect(letter!.reason).toMatch(/maxDeliveries 3/)
    expect([...commits.entries()]).toEqual([[1, 1], [2, 1], [3, 1]])
  })
})
