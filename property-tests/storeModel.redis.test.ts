/**
 * The same store model check against a real redis-server (started by the
 * test, or `REDIS_URL`). One partition per generated store keeps every
 * message in one slot, so no outbox relay is involved and FIFO holds across
 * keys, as the model assumes; each command sequence gets its own namespace.
 */
import { layerRedis } from "../src/stores/redis/layer.ts"
import { useRedis } from "../test/support/redisServer.ts"
import { storeModelSuite } from "./support/storeModel.ts"

const redis = await useRedis()
let sequence = 0
const prefix = `model-${process.pid}-${Math.random().toString(36).slice(2, 8)}`

storeModelSuite(
  "redis (real clock)",
  {
    layer: () => layerRedis({ redis: redis.url, namespace: `${prefix}-${++sequence}`, partitions: 1, maxDeliveries: 3, visibilityTimeoutMs: 3_600_000 }),
    maxDeliveries: 3,
    visibilityTimeoutMs: 3_600_000,
    virtualTime: false,
  },
  "storeModel.redis.test.ts",
)
