import { it } from "vitest"
import { Effect } from "effect"
import { faultyStore } from "./support/faultyStore.ts"
import { evaluate } from "./support/programs.ts"
import { runProgram } from "./support/run.ts"
const program: any = {"kind":"seq","seed":34,"steps":[{"kind":"seq","seed":48,"steps":[{"kind":"catch","fallback":18,"body":{"kind":"all","seed":10,"branches":[{"kind":"activity","name":"gamma","policy":0,"failures":0,"mode":"retryable","value":87,"id":5},{"kind":"sleep","ms":1,"id":6}],"id":4},"id":3},{"kind":"catch","fallback":11,"body":{"kind":"activity","name":"beta","policy":0,"failures":4,"mode":"nonRetryable","value":44,"id":8},"id":7},{"kind":"catch","fallback":50,"body":{"kind":"activity","name":"alpha","policy":1,"failures":2,"mode":"retryable","value":43,"id":10},"id":9}],"id":2}],"id":1}
const schedule: any = {"commits":["lostResponse","none","crash","none","duplicate"],"completes":["crash","crash","duplicate","none","crash","none"],"appends":["duplicate","none","none","duplicate","none"],"reads":[{"fault":"none","rand":3},{"fault":"shuffle","rand":1904723572},{"fault":"redeliver","rand":1232059991},{"fault":"none","rand":1884071883},{"fault":"shuffle","rand":2147483639},{"fault":"shuffleKeys","rand":1265470275},{"fault":"shuffle","rand":31709904}],"timers":[86400000,1,1000,60000,0],"fires":["none","stall","none"]}
it("debug", async () => {
  const expected = evaluate(program, "dbg")
  const log = (s: string) => console.log(s)
  const r = await runProgram(program, expected, "dbg", { stuckAfterMs: 2000, wrapStore: (store) => {
    const f = faultyStore(store, schedule)
    return { ...f,
      commit: (c) => Effect.tap(Effect.sync(() => log(`commit ${c.key} v${c.expectedVersion} ack=${c.ack?.id}:${c.ack?.deliveries} ${c.ack?.body.slice(0,80)} timers=${JSON.stringify(c.timers?.map(t=>[t.id,t.fireAt]))} cancel=${c.cancelTimers}`)), () => f.commit(c)).pipe(Effect.tapError((e) => Effect.sync(() => log("  -> " + e._tag)))),
      complete: (a, m) => Effect.tap(Effect.sync(() => log(`complete ${a.id} ${m[0]?.body.slice(0,90)}`)), () => f.complete(a, m)),
      read: (s, o) => Effect.tap(f.read(s, o), (ds) => Effect.sync(() => ds.length && log(`read ${s.kind} ${ds.map(d => d.id + ":" + d.deliveries + ":" + d.body.slice(0, 60)).join(" | ")}`))),
      fireDueTimers: (l) => Effect.tap(f.fireDueTimers(l), (n) => Effect.flatMap(f.now, (t) => Effect.sync(() => log(`fired ${n} at ${t}`)))),
      now: Effect.tap(f.now, (t) => Effect.sync(() => log(`timer loop now ${t}`))),
    }
  } })
  console.log(JSON.stringify(r.outcome))
})
