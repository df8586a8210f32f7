/** What the core's errors carry that its tests look at (`path` on payload errors). */
export interface ThrownError {
  readonly _tag?: string
  readonly message?: string
  readonly path?: string
}

/** The error `fn` throws (fails the test when it throws nothing). */
export const thrown = (fn: () => unknown): ThrownError => {
  try {
    fn()
  } catch (error) {
    return error as ThrownError
  }
  throw new Error("expected a throw")
}
