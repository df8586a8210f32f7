import { describe, expect, it } from "vitest"
import { checkPayloadSize, decode, decodeArgs, encode, encodeArgs, payloadBytes } from "../../src/core/payload.ts"
import { thrown } from "./thrown.ts"

describe("encode / decode", () => {
  it.each<[string, unknown]>([
    ["string", "hello"],
    ["empty string", ""],
    ["number", 42.5],
    ["zero", 0],
    ["negative", -7],
    ["true", true],
    ["false", false],
    ["null", null],
    ["array", [1, "two", null, [3]]],
    ["object", { a: 1, b: { c: ["x"] }, d: null }],
    ["unicode", { name: "zoë ☃" }],
  ])("round-trips %s", (_name, value) => {
    const payload = encode(value, "value")
    expect(typeof payload).toBe("string")
    expect(decode(payload)).toStrictEqual(value)
  })

  it("encodes undefined as no payload, and back", () => {
    expect(encode(undefined, "result")).toBeUndefined()
    expect(decode(undefined)).toBeUndefined()
  })

  it("encodes JSON text", () => {
    expect(encode({ a: [1, true] }, "v")).toBe('{"a":[1,true]}')
    expect(encode("x", "v")).toBe('"x"')
  })

  it("encodes a Date through toJSON (it decodes as its ISO string)", () => {
    const date = new Date("2024-05-06T07:08:09.010Z")
    expect(decode(encode({ at: date }, "v"))).toStrictEqual({ at: "2024-05-06T07:08:09.010Z" })
  })

  it("accepts any value with toJSON without inspecting it", () => {
    const custom = { secret: () => 1, toJSON: () => ({ shown: true }) }
    expect(decode(encode(custom, "v"))).toStrictEqual({ shown: true })
  })

  it("accepts a shared (non-circular) reference", () => {
    const shared = { n: 1 }
    expect(decode(encode({ x: shared, y: [shared, shared] }, "v"))).toStrictEqual({ x: { n: 1 }, y: [{ n: 1 }, { n: 1 }] })
  })

  it("drops undefined properties, as JSON does", () => {
    expect(decode(encode({ a: undefined, b: 1 }, "v"))).toStrictEqual({ b: 1 })
  })
})

describe("DataConverterError", () => {
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  const named = function charge() {}

  it.each<[string, unknown, string, string]>([
    ["a top-level function", named, "result", "a function (charge)"],
    ["an anonymous function", { f: [() => 1][0] }, "result.f", "a function"],
    ["a symbol", { s: Symbol("k") }, "result.s", "a symbol (Symbol(k))"],
    ["a bigint", { n: 10n }, "result.n", "a bigint"],
    ["NaN", [1, NaN], "result[1]", "NaN"],
    ["Infinity", { x: Infinity }, "result.x", "Infinity"],
    ["-Infinity", { x: -Infinity }, "result.x", "-Infinity"],
    ["a Map", { m: new Map([[1, 2]]) }, "result.m", "a Map"],
    ["a Set", [new Set([1])], "result[0]", "a Set"],
    ["a self-reference", cycle, "result.self", "a circular reference"],
    ["a deep value", { a: [{ b: { c: 1n } }] }, "result.a[0].b.c", "a bigint"],
  ])("%s", (_name, value, path, what) => {
    const error = thrown(() => encode(value, "result"))
    expect(error._tag).toBe("DataConverterError")
    expect(error.path).toBe(path)
    expect(error.message).toBe(`${path} cannot be serialized: it is ${what}${what === "a Map" || what === "a Set" ? " (convert it to an array or object)" : ""}`)
  })
})

describe("encodeArgs / decodeArgs", () => {
  it("round-trips an argument list, keeping undefined positions", () => {
    const args = [1, undefined, { a: "b" }, [null]]
    const payloads = encodeArgs(args)
    expect(payloads).toStrictEqual(["1", undefined, '{"a":"b"}', "[null]"])
    expect(decodeArgs(payloads)).toStrictEqual(args)
  })

  it("reads an undefined position that went through JSON (null) as undefined", () => {
    const stored = JSON.parse(JSON.stringify(encodeArgs([1, undefined]))) as Array<string | undefined>
    expect(stored).toStrictEqual(["1", null])
    expect(decodeArgs(stored)).toStrictEqual([1, undefined])
  })

  it("names the argument and the path inside it", () => {
    const inner: Record<string, unknown> = {}
    const arg = { a: { b: inner } }
    inner.back = arg
    // args[1].a.b.back closes the cycle back to args[1]
    const error = thrown(() => encodeArgs(["ok", arg]))
    expect(error._tag).toBe("DataConverterError")
    expect(error.path).toBe("args[1].a.b.back")
    expect(error.message).toContain("circular reference")
  })

  it("names the cycle at args[1].a.b", () => {
    const arg: { a: { b?: unknown } } = { a: {} }
    arg.a.b = arg
    expect(thrown(() => encodeArgs([0, arg])).path).toBe("args[1].a.b")
  })

  it("uses a custom label", () => {
    expect(thrown(() => encodeArgs([1, 2, () => 3], "activity charge args")).path).toBe("activity charge args[2]")
  })
})

describe("payload size limits", () => {
  const limits = { errorBytes: 12, warnBytes: 6 }
  it("counts UTF-8 bytes of the whole set (surrogate pairs are 4 bytes)", () => {
    expect(payloadBytes([encode("ab", "a"), undefined, encode("é", "b")])).toBe(4 + 4)
    expect(payloadBytes([encode("😀", "c")])).toBe(2 + 4)
    expect(payloadBytes([encode("中", "d")])).toBe(2 + 3)
  })
  it("is ok up to warnBytes, warns above it, refuses above errorBytes naming the set", () => {
    expect(checkPayloadSize([encode("abcd", "x")], "x", limits)).toBe("ok")
    expect(checkPayloadSize([encode("abcde", "x")], "x", limits)).toBe("warn")
    expect(checkPayloadSize([encode("é".repeat(5), "x")], "x", limits)).toBe("warn")
    expect(() => checkPayloadSize([encode("é".repeat(6), "x")], "args of y", limits)).toThrow(
      expect.objectContaining({ _tag: "PayloadSizeLimitError", label: "args of y", sizeBytes: 14, limitBytes: 12 }),
    )
    expect(checkPayloadSize([encode("x".repeat(1e6), "x")], "x", { errorBytes: Infinity, warnBytes: Infinity })).toBe("ok")
  })
})
