/**
 * The README and the examples tell the truth: the quick start in the README
 * is the file we run, and both it and `npm start`'s order example complete.
 */
import { execFile } from "node:child_process"
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const run = (script: string) =>
  promisify(execFile)(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", script], { cwd: root, timeout: 60_000 })

describe("README and examples", () => {
  it("the README's quick start is examples/quickstart/hello.ts, verbatim", async () => {
    const readme = await readFile(`${root}/README.md`, "utf8")
    const file = await readFile(`${root}/examples/quickstart/hello.ts`, "utf8")
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    expect(blocks).toContain(file)
  })

  it("the quick start prints its result", async () => {
    const { stdout } = await run("examples/quickstart/hello.ts")
    expect(stdout.trim()).toBe("Hello, World!")
  })

  it("the README's visibility example is examples/visibility/orders.ts, verbatim, and prints what its comments say", async () => {
    const readme = await readFile(`${root}/README.md`, "utf8")
    const file = await readFile(`${root}/examples/visibility/orders.ts`, "utf8")
    expect([...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])).toContain(file)
    const { stdout } = await run("examples/visibility/orders.ts")
    const said = [...file.matchAll(/\/\/ (order-2 .*|\{"count".*)$/gm)].map((match) => match[1])
    expect(said).toHaveLength(2)
    expect(stdout.trim().split("\n")).toEqual(said)
  })

  it("npm start's order example completes and prints its timeline", async () => {
    const { stdout } = await run("examples/order/main.ts")
    expect(stdout).toContain("status: COMPLETED")
    expect(stdout).toMatch(/↻ activity seq 1 attempt 2 in 200ms: NetworkTimeout/)
    expect(stdout).toMatch(/⚑ signal approve \["ada@example.com"\]/)
    expect(stdout).toMatch(/→ child shipping ship-o-/)
    expect(stdout).toMatch(/✓ timer seq 3 fired/)
    expect(stdout).toMatch(/result: \{"status":"completed","chargeId":"ch_o-[^"]+","tracking":"1Z-O-[^"]+","approvedBy":"ada@example.com"\}/)
  })
})
