/**
 * `loadClientConnectConfig()`: HotMesh's counterpart of
 * `@temporalio/envconfig` — where to connect, from the environment and an
 * optional profile file, so the same code runs against the embedded store in
 * development and Redis in production.
 *
 * Sources, later ones winning: the profile (`HOTMESH_PROFILE`, default
 * `"default"`) of the config file (`HOTMESH_CONFIG_FILE`, TOML or JSON, e.g.
 * `[profile.default]` with `redis = "redis://..."` and `namespace = "orders"`),
 * then `HOTMESH_REDIS_URL` and `HOTMESH_NAMESPACE`. Nothing set: the
 * embedded store, namespace `"default"`.
 */
import { readFileSync } from "node:fs"
import { parse as parseToml } from "smol-toml"
import { InvalidArgumentError } from "../core/errors.ts"
import type { ConnectionOptions } from "./connection.ts"
import { checkOptions } from "./internal/options.ts"

/** Options of `loadClientConnectConfig`. */
export interface LoadClientConnectConfigOptions {
  /** The profile to read; default `HOTMESH_PROFILE` or `"default"`. */
  readonly profile?: string
  /** The config file (TOML, or JSON when it ends in `.json`), or its text; default `HOTMESH_CONFIG_FILE`. */
  readonly configSource?: { readonly path: string } | { readonly data: string; readonly format?: "toml" | "json" }
  /** The environment to read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** Where to connect: pass `connectionOptions` to `Connection.connect` (or `NativeConnection.connect`). */
export interface ClientConnectConfig {
  readonly connectionOptions: Pick<ConnectionOptions, "redis" | "namespace">
  readonly namespace: string
}

const PROFILE_KEYS = ["redis", "namespace"] as const

const invalid = (message: string) => new InvalidArgumentError({ message: `loadClientConnectConfig: ${message}` })

const readProfiles = (source: NonNullable<LoadClientConnectConfigOptions["configSource"]>): Record<string, unknown> => {
  const [text, format, where] =
    "path" in source
      ? [readFileSync(source.path, "utf8"), source.path.endsWith(".json") ? "json" : "toml", source.path]
      : [source.data, source.format ?? "toml", "configSource.data"]
  let parsed: unknown
  try {
    parsed = format === "json" ? JSON.parse(text) : parseToml(text)
  } catch (error) {
    throw invalid(`cannot parse ${where} as ${format.toUpperCase()}: ${(error as Error).message}`)
  }
  const profiles = (parsed as { profile?: unknown } | null)?.profile
  if (typeof profiles !== "object" || profiles === null) throw invalid(`${where} has no [profile.<name>] tables`)
  return profiles as Record<string, unknown>
}

/** Read where to connect from the environment and an optional profile file (see the module comment). */
export const loadClientConnectConfig = (options: LoadClientConnectConfigOptions = {}): ClientConnectConfig => {
  checkOptions("loadClientConnectConfig(options)", options, ["profile", "configSource", "env"])
  const env = options.env ?? process.env
  const profileName = options.profile ?? env["HOTMESH_PROFILE"] ?? "default"
  const file = env["HOTMESH_CONFIG_FILE"]
  const source = options.configSource ?? (file === undefined || file === "" ? undefined : { path: file })
  let profile: Record<string, unknown> = {}
  if (source !== undefined) {
    const profiles = readProfiles(source)
    const found = profiles[profileName]
    if (found === undefined) {
      // Only an explicitly chosen profile must exist; the default one may be absent.
      if (options.profile !== undefined || env["HOTMESH_PROFILE"] !== undefined) {
        throw invalid(`profile "${profileName}" not found (profiles: ${Object.keys(profiles).join(", ") || "none"})`)
      }
    } else {
      if (typeof found !== "object" || found === null) throw invalid(`profile "${profileName}" must be a table`)
      checkOptions(`loadClientConnectConfig: profile "${profileName}"`, found, PROFILE_KEYS)
      profile = found as Record<string, unknown>
    }
  }
  for (const key of PROFILE_KEYS) {
    if (profile[key] !== undefined && typeof profile[key] !== "string") throw invalid(`profile "${profileName}": ${key} must be a string`)
  }
  const redis = env["HOTMESH_REDIS_URL"] || (profile["redis"] as string | undefined)
  const namespace = env["HOTMESH_NAMESPACE"] || (profile["namespace"] as string | undefined) || "default"
  return { connectionOptions: redis === undefined ? { namespace } : { redis, namespace }, namespace }
}
