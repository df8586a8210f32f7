// Lint rules that guard the design: no floating promises, no import cycles,
// and a pure core (no Effect runtime, ioredis or node:* in src/core).
import importX from "eslint-plugin-import-x"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: { "import-x/resolver": { node: { extensions: [".ts", ".js"] } } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/stores/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["ioredis"], message: "Only src/stores talks to Redis." }] }],
    },
  },
  {
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["node:*", "ioredis", "ioredis-mock"], message: "src/core is pure: no I/O." },
          { group: ["../effects/*", "../stores/*", "../sdk/*"], message: "src/core imports nothing outside core." },
        ],
        paths: [{ name: "effect", importNames: ["Effect", "Layer", "Stream", "Fiber", "Clock", "Random", "ManagedRuntime", "Schedule", "Queue"], message: "src/core uses no Effect runtime (Data/Schema only)." }],
      }],
    },
  },
)
