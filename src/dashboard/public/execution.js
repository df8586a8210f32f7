// One execution: summary, a failing workflow task shown first, search
// attributes and memo, the timeline chart (and its table), pending
// activities, the history as a table and as raw JSON, actions with
// confirmation, and "follow" while it runs.
import { api } from "./api.js"
import { timelineChart } from "./charts.js"
import { confirmAction, duration, executionHref, h, replace, statusBadge, table, taskQueueHref, time, toast } from "./dom.js"

const FOLLOW_MS = 1000

const json = (value) => JSON.stringify(value, null, 2)

const parseArgs = (text) => {
  if (text.trim() === "") return []
  const value = JSON.parse(text)
  return Array.isArray(value) ? value : [value]
}

/** The actions panel (built once, so typing survives a refresh). */
const actionsPanel = (workflowId, refresh) => {
  const output = h("output", { id: "action-output", for: "action-name action-args", "aria-live": "polite" })
  const name = h("input", { id: "action-name", name: "name", autocomplete: "off" })
  const args = h("textarea", { id: "action-args", name: "args", rows: 2, placeholder: '["a JSON value", 2]' })
  const reason = h("input", { id: "terminate-reason", name: "reason", autocomplete: "off", placeholder: "terminated from the dashboard" })
  const run = async (verb, body, confirmText) => {
    if (confirmText !== undefined && !(await confirmAction(`${verb[0].toUpperCase()}${verb.slice(1)} ${workflowId}?`, confirmText))) return
    try {
      const reply = await api(`/api/executions/${encodeURIComponent(workflowId)}/${verb}`, body)
      output.className = "ok"
      output.textContent = "result" in reply ? `${verb} returned ${json(reply.result)}` : `${workflowId}: ${reply.done}`
      toast(output.textContent)
      refresh()
    } catch (error) {
      output.className = "error"
      output.textContent = `${verb} failed: ${error.message}`
    }
  }
  const withArgs = (verb, confirmText) => () => {
    let parsed
    try {
      parsed = parseArgs(args.value)
    } catch (error) {
      output.className = "error"
      output.textContent = `arguments are not JSON: ${error.message}`
      return
    }
    if (name.value.trim() === "") {
      output.className = "error"
      output.textContent = `${verb} needs a name`
      name.focus()
      return
    }
    void run(verb, { name: name.value.trim(), args: parsed }, confirmText?.(name.value.trim()))
  }
  return h("section", { class: "actions", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Actions"),
    h("div", { class: "action-fields" },
      h("label", { for: "action-name" }, "Signal, query or update name"), name,
      h("label", { for: "action-args" }, "Arguments (a JSON array, or one JSON value)"), args),
    h("div", { class: "buttons" },
      h("button", { type: "button", id: "do-signal", onclick: withArgs("signal", (n) => `Send signal ${n} to the workflow.`) }, "Signal"),
      h("button", { type: "button", id: "do-query", onclick: withArgs("query") }, "Query"),
      h("button", { type: "button", id: "do-update", onclick: withArgs("update", (n) => `Run update ${n}: its handler may change the workflow's state.`) }, "Update")),
    h("div", { class: "action-fields" }, h("label", { for: "terminate-reason" }, "Reason to terminate"), reason),
    h("div", { class: "buttons" },
      h("button", { type: "button", id: "do-cancel", class: "danger", onclick: () => void run("cancel", {}, "Request cancellation: the workflow sees a CancelledFailure it may handle.") }, "Cancel"),
      h("button", { type: "button", id: "do-terminate", class: "danger", onclick: () => void run("terminate", reason.value.trim() === "" ? {} : { reason: reason.value.trim() }, "Terminate it now: no workflow code runs again.") }, "Terminate")),
    output)
}

const keyValues = (caption, record, id) => {
  const entries = Object.entries(record ?? {})
  return table(caption, ["Name", "Value"], entries.map(([key, value]) => [key, h("code", {}, typeof value === "string" ? value : json(value))]), { id, class: "kv" })
}

export const renderExecution = (main, workflowId, config) => {
  const title = h("h1", {}, "Workflow ", h("span", { class: "id" }, workflowId))
  const follow = h("input", { type: "checkbox", id: "follow", checked: true })
  const body = h("div", { id: "execution", "aria-busy": "true" })
  let stopped = false
  let chart
  let timer
  const refresh = () => void load()
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Executions"), " / "),
    title,
    h("p", { class: "refresh" }, follow, h("label", { for: "follow" }, " Follow while it runs")),
    body,
    config.readOnly ? null : actionsPanel(workflowId, refresh))

  const render = (reply) => {
    const e = reply.execution
    const failing = e.taskFailure
    const closed = e.closeTime === undefined ? undefined : Date.parse(e.closeTime)
    const summary = h("dl", { class: "summary", id: "summary" },
      h("dt", {}, "Status"), h("dd", { id: "status" }, statusBadge(e.status)),
      h("dt", {}, "Type"), h("dd", {}, e.type),
      h("dt", {}, "Run ID"), h("dd", {}, h("code", {}, e.runId)),
      h("dt", {}, "Task queue"), h("dd", {}, h("a", { href: taskQueueHref(e.taskQueue) }, e.taskQueue)),
      h("dt", {}, "Started"), h("dd", {}, time(e.startTime)),
      h("dt", {}, "Closed"), h("dd", {}, time(e.closeTime)),
      h("dt", {}, "Duration"), h("dd", {}, duration((closed ?? Date.now()) - Date.parse(e.startTime))),
      h("dt", {}, "History length"), h("dd", {}, String(e.historyLength)),
      h("dt", {}, "Parent"), h("dd", { id: "parent" }, e.parent ? h("a", { href: executionHref(e.parent.workflowId) }, e.parent.workflowId) : "—"),
      h("dt", {}, "Children"), h("dd", { id: "children" }, reply.children.length === 0 ? "—" : h("ul", {}, reply.children.map((c) =>
        h("li", {}, h("a", { href: executionHref(c.workflowId) }, c.workflowId), ` (${c.workflowType}, ${c.outcome})`)))))
    const canvas = h("canvas", { id: "timeline-chart", role: "img", "aria-label": `Timeline: ${reply.timeline.bars.length} bars in ${reply.timeline.lanes.length} lanes; the table below lists them` })
    const o = reply.timeline.origin
    const history = reply.history
    chart?.destroy()
    // Following re-renders every second: keep what the reader opened open.
    const opened = [...body.querySelectorAll("details")].map((d) => d.open)
    replace(body,
      failing ? h("section", { class: "task-failure", role: "alert", id: "task-failure" },
        h("h2", {}, `Workflow task failing: ${failing.type}`),
        h("p", {}, `Attempt ${failing.attempt}; the task is retried until the code or the history is fixed.`),
        h("pre", {}, failing.message)) : null,
      h("section", { "aria-labelledby": "summary-title" }, h("h2", { id: "summary-title" }, "Summary"), summary),
      h("div", { class: "columns" },
        keyValues("Search attributes", e.searchAttributes, "search-attributes"),
        keyValues("Memo", e.memo, "memo")),
      h("section", { "aria-labelledby": "timeline-title" },
        h("h2", { id: "timeline-title" }, "Timeline"),
        h("p", { class: "legend" },
          ["completed", "failed", "open", "backoff", "cancelled", "instant"].map((k) => h("span", { class: `key key-${k}` }, k === "open" ? "running" : k === "instant" ? "signal" : k))),
        h("div", { class: "chart" }, canvas),
        h("details", {}, h("summary", {}, "Timeline as a table"),
          table("Timeline bars", ["Lane", "Bar", "Kind", "From", "To", "Outcome", "Detail"], reply.timeline.bars.map((b) =>
            [b.lane, b.label, b.kind, `+${duration(b.start - o)}`, `+${duration(b.end - o)}`, b.outcome, b.detail ?? ""]), { id: "timeline-table", class: "grid" }))),
      h("section", { "aria-labelledby": "pending-title" },
        h("h2", { id: "pending-title" }, "Pending activities"),
        table("Activities not yet finished", ["Activity ID", "Type", "State", "Attempt", "Last failure", "Heartbeat"], e.pendingActivities.map((a) => [
          a.activityId, a.activityType, a.state, String(a.attempt),
          a.lastFailure ? `${a.lastFailure.type ?? "Error"}: ${a.lastFailure.message}` : "—",
          a.heartbeatDetails === undefined ? "—" : h("code", {}, json(a.heartbeatDetails)),
        ]), { id: "pending-activities", class: "grid" })),
      h("section", { "aria-labelledby": "history-title" },
        h("h2", { id: "history-title" }, "History"),
        table(`${history.length} events`, ["#", "Time", "Task", "Event", "Description"], history.map((event, i) => [
          String(i + 1), `+${duration(event.at - o)}`, event.task === undefined ? "" : String(event.task), event.type, reply.descriptions[i],
        ]), { id: "history", class: "grid" }),
        h("details", {}, h("summary", {}, "Raw JSON"), h("pre", { id: "history-json", class: "raw" }, json(history)))))
    body.querySelectorAll("details").forEach((d, i) => (d.open = opened[i] ?? false))
    if (window.Chart !== undefined) chart = timelineChart(canvas, reply.timeline)
    else canvas.replaceWith(h("p", { class: "error" }, "Chart.js did not load; the timeline table below has the same bars."))
    document.body.dataset.status = e.status
  }

  const load = async () => {
    clearTimeout(timer)
    try {
      const reply = await api(`/api/executions/${encodeURIComponent(workflowId)}`)
      if (stopped) return
      render(reply)
      body.setAttribute("aria-busy", "false")
      if (reply.execution.status === "RUNNING" && follow.checked) timer = setTimeout(refresh, FOLLOW_MS)
    } catch (error) {
      if (stopped) return
      body.setAttribute("aria-busy", "false")
      replace(body, h("p", { class: "error", role: "alert" }, error.message))
    }
  }
  follow.addEventListener("change", () => (follow.checked ? refresh() : clearTimeout(timer)))
  void load()
  return () => {
    stopped = true
    clearTimeout(timer)
    chart?.destroy()
    delete document.body.dataset.status
  }
}
