// Task queues: each queue's streams (depth, pending, oldest pending age),
// the workers seen on them, throughput and latency sparklines (sampled by
// the dashboard process), and dead letters with retry and purge.
import { api } from "./api.js"
import { sparkline } from "./charts.js"
import { confirmAction, duration, executionHref, h, replace, table, taskQueueHref, time, toast } from "./dom.js"

const REFRESH_MS = 5000

const streamOf = (queue, kind) => queue.streams.find((s) => s.kind === kind) ?? { length: 0, pending: 0, consumers: [], deadLetters: 0 }
const oldest = (queue) => Math.max(0, ...queue.streams.map((s) => s.oldestPendingMs ?? 0))
// A worker reads the workflow stream as `IDENTITY/wf` and the activity stream as `IDENTITY/act`.
const identityOf = (consumer) => consumer.replace(/\/(wf|act)$/, "")
const workersOf = (queue) => new Set(queue.streams.flatMap((s) => s.consumers.map((c) => identityOf(c.name)))).size

/** A sparkline canvas for `values`, with the last value as its text alternative. */
const spark = (charts, values, label, format, color) => {
  const last = [...values].reverse().find((v) => v !== null && v !== undefined)
  const canvas = h("canvas", { width: 120, height: 28, role: "img", class: "spark", "aria-label": `${label}: ${values.length} samples, latest ${last === undefined ? "none" : format(last)}` })
  const cell = h("span", { class: "spark-cell" }, canvas, h("span", { class: "spark-value" }, last === undefined ? "—" : format(last)))
  if (window.Chart !== undefined) charts.push(sparkline(canvas, values.map((v) => v ?? null), label, color))
  return cell
}

const perSecond = (v) => `${v.toFixed(2)}/s`

const refreshing = (main, load) => {
  let timer
  let stopped = false
  const charts = []
  const auto = h("input", { type: "checkbox", id: "auto-refresh", checked: true })
  const run = async () => {
    clearTimeout(timer)
    try {
      const fresh = []
      await load(fresh, () => stopped)
      for (const chart of charts.splice(0)) chart.destroy()
      charts.push(...fresh)
    } catch (error) {
      if (!stopped) replace(main.querySelector("#content"), h("p", { class: "error", role: "alert" }, error.message))
    }
    if (!stopped && auto.checked) timer = setTimeout(() => void run(), REFRESH_MS)
  }
  auto.addEventListener("change", () => (auto.checked ? void run() : clearTimeout(timer)))
  return {
    auto: h("p", { class: "refresh" }, auto, h("label", { for: "auto-refresh" }, ` Auto-refresh every ${REFRESH_MS / 1000} s`)),
    start: () => void run(),
    stop: () => {
      stopped = true
      clearTimeout(timer)
      for (const chart of charts) chart.destroy()
    },
    run,
  }
}

export const renderTaskQueues = (main) => {
  const content = h("div", { id: "content", "aria-live": "polite" })
  const page = refreshing(main, async (charts, stopped) => {
    const reply = await api("/api/task-queues")
    if (stopped()) return
    replace(content, table("Task queues of this namespace's recent executions", ["Task queue", "Workflow depth", "Activity depth", "Pending", "Oldest pending", "Workers", "Dead letters", "Closed per second", "Mean duration"],
      reply.taskQueues.map((q) => [
        h("a", { href: taskQueueHref(q.taskQueue) }, q.taskQueue),
        String(streamOf(q, "workflow").length),
        String(streamOf(q, "activity").length),
        String(q.streams.reduce((n, s) => n + s.pending, 0)),
        duration(oldest(q)),
        String(workersOf(q)),
        String(q.streams.reduce((n, s) => n + s.deadLetters, 0)),
        spark(charts, q.samples.map((s) => s.closedPerSecond), `${q.taskQueue} throughput`, perSecond),
        spark(charts, q.samples.map((s) => s.meanDurationMs), `${q.taskQueue} latency`, duration, "#6a1b9a"),
      ]), { id: "task-queues", class: "grid" }))
  })
  replace(main, h("h1", {}, "Task queues"), content, page.auto)
  page.start()
  return page.stop
}

export const renderTaskQueue = (main, name, config) => {
  const content = h("div", { id: "content" })
  const output = h("output", { id: "dlq-output", "aria-live": "polite" })
  let page
  const act = async (verb, body, question) => {
    if (!(await confirmAction(question, "Dead letters are messages workers could not process."))) return
    try {
      const reply = await api(`/api/task-queues/${encodeURIComponent(name)}/dead-letters/${verb}`, body)
      output.textContent = verb === "retry" ? "retried 1 dead letter" : `purged ${reply.purged} dead letter${reply.purged === 1 ? "" : "s"}`
      toast(output.textContent)
      void page.run()
    } catch (error) {
      output.textContent = `${verb} failed: ${error.message}`
    }
  }
  page = refreshing(main, async (charts, stopped) => {
    const q = await api(`/api/task-queues/${encodeURIComponent(name)}`)
    if (stopped()) return
    const now = Date.now()
    const samples = q.samples
    replace(content,
      h("div", { class: "sparks" },
        h("figure", {}, h("figcaption", {}, "Executions closed per second"), spark(charts, samples.map((s) => s.closedPerSecond), "throughput", perSecond)),
        h("figure", {}, h("figcaption", {}, "Mean execution duration"), spark(charts, samples.map((s) => s.meanDurationMs), "latency", duration, "#6a1b9a")),
        h("figure", {}, h("figcaption", {}, "Stream depth"), spark(charts, samples.map((s) => s.depth), "depth", String, "#2e7d32")),
        h("figure", {}, h("figcaption", {}, "Oldest pending"), spark(charts, samples.map((s) => s.oldestPendingMs), "oldest pending", duration, "#c62828"))),
      h("p", { class: "help" }, `Sampled by this dashboard every few seconds since it first showed the queue (${samples.length} sample${samples.length === 1 ? "" : "s"}). Executions by status: `,
        Object.entries(q.byStatus).map(([s, n]) => `${s} ${n}`).join(", ") || "none", "."),
      table("Streams", ["Stream", "Depth", "Pending", "Oldest pending", "Dead letters", "Workers"], q.streams.map((s) =>
        [s.kind, String(s.length), String(s.pending), s.oldestPendingMs === undefined ? "—" : duration(s.oldestPendingMs), String(s.deadLetters), String(s.consumers.length)]), { id: "streams", class: "grid" }),
      table("Workers seen (stream consumers)", ["Worker", "Stream", "Holding", "Last read"], q.streams.flatMap((s) => s.consumers.map((c) =>
        [identityOf(c.name), s.kind, String(c.pending), `${time(now - c.idleMs)} (${duration(c.idleMs)} ago)`])), { id: "workers", class: "grid" }),
      h("p", {}, `Timers due now: ${q.timers.due}; next timer: ${q.timers.nextAt === undefined ? "none" : time(q.timers.nextAt)} (namespace-wide).`),
      h("section", { "aria-labelledby": "dlq-title" },
        h("h2", { id: "dlq-title" }, "Dead letters"),
        config.readOnly || q.deadLetters.length === 0 ? null
          : h("p", {}, h("button", { type: "button", class: "danger", id: "purge-all", onclick: () => void act("purge", {}, `Purge all ${q.deadLetters.length} dead letters of ${name}?`) }, "Purge all")),
        table(`${q.deadLetters.length} dead letter${q.deadLetters.length === 1 ? "" : "s"}`, ["Id", "Stream", "Workflow", "Deliveries", "Dead-lettered", "Reason", ...(config.readOnly ? [] : ["Actions"])],
          q.deadLetters.map((d) => [
            h("code", {}, d.id), d.kind, h("a", { href: executionHref(d.workflowId) }, d.workflowId), String(d.deliveries), time(d.deadLetteredAt), d.reason,
            ...(config.readOnly ? [] : [h("span", { class: "buttons" },
              h("button", { type: "button", onclick: () => void act("retry", { kind: d.kind, id: d.id }, `Retry dead letter ${d.id}?`) }, "Retry"),
              h("button", { type: "button", class: "danger", onclick: () => void act("purge", { kind: d.kind, ids: [d.id] }, `Purge dead letter ${d.id}?`) }, "Purge"))]),
          ]), { id: "dead-letters", class: "grid" }),
        output))
  })
  replace(main, h("p", { class: "crumbs" }, h("a", { href: "#/task-queues" }, "Task queues"), " / "), h("h1", {}, "Task queue ", h("span", { class: "id" }, name)), content, page.auto)
  page.start()
  return page.stop
}
