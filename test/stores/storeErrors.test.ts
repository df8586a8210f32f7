/**
 * Only what the store or its connection did is a `StoreError` (callers
 * retry it); a bug inside a store call — a programming error in a backend,
 * an observer that throws, a script reply that breaks its contract — is a
 * defect, so it is never retried as if the store were down.
 */
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { attempt, makeRunScript } from "../../src/stores/redis/scripts.ts"
import type { Redis } from "ioredis"

const exitOf = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.exit(effect))

const kindOf = (exit: Exit.Exit<unknown, unknown>): "ok" | "StoreError" | "defect" | "other" => {
  if (Exit.isSuccess(exit)) return "ok"
  if (Cause.hasDies(exit.cause)) return "defect"
  const error = Cause.findErrorOption(exit.cause)
  return error._tag === "Some" && (error.value as { _tag?: string })._tag === "StoreError" ? "StoreError" : "other"
}

describe("Redis calls: store errors and bugs", () => {
  it("a rejection from Redis or the connection is a StoreError", async () => {
    expect(kindOf(await exitOf(attempt("op", () => Promise.reject(new Error("Connection is closed.")))))).toBe("StoreError")
    const reply = Object.assign(new Error("ERR wrong number of arguments"), { name: "ReplyError" })
    expect(kindOf(await exitOf(attempt("op", () => Promise.reject(reply))))).toBe("StoreError")
  })

  it("a programming error, thrown or rejected, is a defect", async () => {
    expect(kindOf(await exitOf(attempt("op", () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')")
    })))).toBe("defect")
    expect(kindOf(await exitOf(attempt("op", () => Promise.reject(new RangeError("Invalid array length")))))).toBe("defect")
  })

  it("a throwing script observer, an unregistered script or a malformed reply is a defect", async () => {
    const client = {
      hotmesh_read: () => Promise.resolve("not an array"),
      hotmesh_ack: () => Promise.resolve([0, 1]),
    } as unknown as Redis
    const run = makeRunScript(client)
    expect(kindOf(await exitOf(run("ack", ["k"], [])))).toBe("ok")
    expect(kindOf(await exitOf(run("read", ["k"], [])))).toBe("defect")
    expect(kindOf(await exitOf(run("commit", ["k"], [])))).toBe("defect")
    const observed = makeRunScript(client, () => {
      throw new Error("observer bug")
    })
    expect(kindOf(await exitOf(observed("ack", ["k"], [])))).toBe("defect")
  })
})
