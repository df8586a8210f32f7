/** Benchmark activities: trivial, so the runtime's own cost is what is measured. */
export async function step(value: number): Promise<number> {
  return value + 1
}
