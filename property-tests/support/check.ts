/**
 * Running fast-check properties inside vitest: `NUM_RUNS` and `SEED` come
 * from the environment, and a failure message starts with the command that
 * replays it (fast-check's own report, with seed, path and counterexample,
 * follows). `FC_PATH=<path>` replays only the shrunk counterexample;
 * `NO_SHRINK=1` reports the first counterexample without shrinking.
 */
import fc from "fast-check"

/** Runs per property: `NUM_RUNS` or the default budget of `npm test`. */
export const numRuns = (fallback: number): number => {
  const fromEnv = Number(process.env.NUM_RUNS)
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback
}

/** A vitest timeout that grows with the number of runs. */
export const timeoutFor = (runs: number, msPerRun: number): number => 60_000 + runs * msPerRun

/** Which test a property belongs to, for the reproduction command. */
export interface PropertyName {
  /** File name under property-tests/. */
  readonly file: string
  /** A stable part of the test's name (passed to `vitest -t`). */
  readonly test: string
}

/** `fc.assert` with the environment's seed, and the reproduction command in the failure message. */
export const assertProperty = async <T>(
  name: PropertyName,
  property: fc.IAsyncPropertyWithHooks<T> | fc.IAsyncProperty<T>,
  runs: number,
  params: Omit<fc.Parameters<T>, "numRuns" | "seed" | "path"> = {},
): Promise<void> => {
  const seed = process.env.SEED === undefined ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0 : Number(process.env.SEED)
  const path = process.env.FC_PATH
  const noShrink = process.env.NO_SHRINK === undefined ? {} : { endOnFailure: true }
  try {
    await fc.assert(property, { ...params, ...noShrink, numRuns: runs, seed, ...(path === undefined ? {} : { path }) })
  } catch (error) {
    const env = ` NUM_RUNS=${process.env.NUM_RUNS ?? runs}`
    const pattern = name.test.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    const reproduce = `Reproduce: SEED=${seed}${env} npx vitest run property-tests/${name.file} -t "${pattern}"` +
      "  (prefix FC_PATH=<path> with the path fast-check reports below to replay only the shrunk counterexample)"
    if (error instanceof Error) {
      error.message = `${reproduce}\n${error.message}`
      throw error
    }
    throw new Error(`${reproduce}\n${String(error)}`)
  }
}
