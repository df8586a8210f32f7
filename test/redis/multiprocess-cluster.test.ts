/**
 * The multi-process crash scenarios of multiprocess.test.ts (worker processes
 * SIGKILLed or frozen in the middle of an activity) on a real local Redis
 * Cluster (3 masters + 3 replicas): the worker processes and this one
 * cooperate through the cluster only.
 */
import { Cluster } from "ioredis"
import { afterAll } from "vitest"
import { useRedisCluster } from "../support/redisCluster.ts"
import { multiprocessSuite } from "./fixtures/multiprocessSuite.ts"

const cluster = await useRedisCluster()
const admin = new Cluster(cluster.startupNodes.map((n) => ({ ...n })))
afterAll(() => admin.disconnect())

multiprocessSuite({
  name: "Redis Cluster",
  redis: { cluster: cluster.startupNodes },
  admin,
  workerEnv: { HOTMESH_REDIS_CLUSTER: JSON.stringify(cluster.startupNodes) },
})
