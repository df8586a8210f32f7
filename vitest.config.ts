import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: { conditions: ["hotmesh-source"] },
  ssr: { resolve: { conditions: ["hotmesh-source"] } },
  test: {
    include: ["test/**/*.test.ts", "property-tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
