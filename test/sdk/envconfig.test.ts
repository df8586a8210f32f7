/** `loadClientConnectConfig`: where to connect, from a profile file and the environment (env wins), refusing what it cannot use. */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Connection, InvalidArgumentError, loadClientConnectConfig } from "hotmesh"
import { describe, expect, it } from "vitest"

const TOML = `
[profile.default]
namespace = "orders"

[profile.prod]
redis = "redis://redis.internal:6379/0"
namespace = "orders-prod"
`

describe("loadClientConnectConfig", () => {
  it("nothing set: the embedded store, namespace default — and Connection.connect takes the result", async () => {
    const config = loadClientConnectConfig({ env: {} })
    expect(config).toEqual({ connectionOptions: { namespace: "default" }, namespace: "default" })
    const connection = await Connection.connect(config.connectionOptions)
    expect(connection.namespace).toBe("default")
    await connection.close()
  })

  it("reads a TOML or JSON profile file, HOTMESH_PROFILE picks the profile, the environment overrides it", () => {
    const dir = mkdtempSync(join(tmpdir(), "hotmesh-envconfig-"))
    const toml = join(dir, "hotmesh.toml")
    writeFileSync(toml, TOML)
    expect(loadClientConnectConfig({ env: { HOTMESH_CONFIG_FILE: toml } })).toEqual({ connectionOptions: { namespace: "orders" }, namespace: "orders" })
    expect(loadClientConnectConfig({ env: { HOTMESH_CONFIG_FILE: toml, HOTMESH_PROFILE: "prod" } }).connectionOptions).toEqual({
      redis: "redis://redis.internal:6379/0",
      namespace: "orders-prod",
    })
    expect(
      loadClientConnectConfig({ profile: "prod", env: { HOTMESH_CONFIG_FILE: toml, HOTMESH_REDIS_URL: "redis://localhost:6380", HOTMESH_NAMESPACE: "dev" } }),
    ).toEqual({ connectionOptions: { redis: "redis://localhost:6380", namespace: "dev" }, namespace: "dev" })
    const json = join(dir, "hotmesh.json")
    writeFileSync(json, JSON.stringify({ profile: { default: { redis: "redis://json:6379" } } }))
    expect(loadClientConnectConfig({ env: { HOTMESH_CONFIG_FILE: json } }).connectionOptions).toEqual({ redis: "redis://json:6379", namespace: "default" })
  })

  it("refuses an unknown profile, an unknown key and a file it cannot parse", () => {
    const refused = (f: () => unknown, fragment: string) => {
      expect(f).toThrow(InvalidArgumentError)
      expect(f).toThrow(fragment)
    }
    refused(() => loadClientConnectConfig({ profile: "staging", configSource: { data: TOML }, env: {} }), 'profile "staging" not found (profiles: default, prod)')
    refused(() => loadClientConnectConfig({ configSource: { data: '[profile.default]\naddress = "localhost:7233"' }, env: {} }), 'unknown option "address"')
    refused(() => loadClientConnectConfig({ configSource: { data: "[profile.default", format: "toml" }, env: {} }), "cannot parse configSource.data as TOML")
  })
})
