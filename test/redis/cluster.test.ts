/**
 * The Redis store on a real local Redis Cluster (3 masters + 3 replicas,
 * `test/support/redisCluster.ts`): the store conformance suite, with every
 * script's keys checked against the slot rule, and the blocking reads
 * spread over the masters.
 */
import { afterAll } from "@effect/vitest"
import { storeConformance } from "../../src/sdk/testing/storeConformance.ts"
import { layerRedis } from "../../src/stores/redis/layer.ts"
import { keySlot } from "../../src/stores/redis/slot.ts"
import { useRedisCluster } from "../support/redisCluster.ts"

const cluster = await useRedisCluster()
const crossSlot: Array<string> = []
const onScript = (name: string, keys: ReadonlyArray<string>) => {
  if (new Set(keys.map(keySlot)).size > 1) crossSlot.push(name)
}
afterAll(() => {
  if (crossSlot.length > 0) throw new Error(`scripts spanning slots: ${crossSlot.join(", ")}`)
})

storeConformance(
  "redis cluster",
  layerRedis({ redis: { cluster: cluster.startupNodes }, namespace: `conf-${process.pid}`, maxDeliveries: 3, onScript }),
  { maxDeliveries: 3 },
)
