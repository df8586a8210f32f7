import { defineConfig } from "vitest/config"

// vitest 5 targets Node 22; its reporter calls Map.groupBy, which Node 20 lacks.
if (typeof (Map as { groupBy?: unknown }).groupBy !== "function") {
  Object.defineProperty(Map, "groupBy", {
    value: <K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, Array<V>> => {
      const groups = new Map<K, Array<V>>()
      let index = 0
      for (const item of items) {
        const k = key(item, index++)
        const group = groups.get(k)
        if (group === undefined) groups.set(k, [item])
        else group.push(item)
      }
      return groups
    },
  })
}

export default defineConfig({
  resolve: { conditions: ["hotmesh-source"] },
  ssr: { resolve: { conditions: ["hotmesh-source"] } },
  test: {
    include: ["test/**/*.test.ts", "property-tests/**/*.test.ts", "examples/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
