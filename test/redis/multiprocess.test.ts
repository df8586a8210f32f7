/**
 * Workers in separate processes, cooperating through Redis only, and dying
 * (or stalling) in the middle of an activity.
 *
 * The doomed worker is a child process (fixtures/crash-worker.ts) whose
 * activity writes a marker to a Redis list, then blocks. The test waits for
 * the marker (polling Redis with a deadline), kills or freezes the process,
 * and lets another worker take over: the activity task is re-delivered after
 * the visibility timeout (500 ms here), so the activity runs twice
 * (at-least-once) — but its completion is recorded exactly once.
 */
import { Redis } from "ioredis"
import { afterAll } from "vitest"
import { useRedis } from "../support/redisServer.ts"
import { multiprocessSuite } from "./fixtures/multiprocessSuite.ts"

const redis = await useRedis()
const admin = new Redis(redis.url)
afterAll(() => admin.disconnect())

multiprocessSuite({ name: "one Redis", redis: redis.url, admin, workerEnv: { HOTMESH_REDIS_URL: redis.url } })
