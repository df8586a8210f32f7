// Executions: the list-filter box (its error shown inline, with the caret),
// status chips with counts, the table, paging and auto-refresh.
import { api } from "./api.js"
import { duration, executionHref, h, replace, statusBadge, table, taskQueueHref, time } from "./dom.js"

const STATUSES = ["Running", "Completed", "Failed", "Canceled", "Terminated", "TimedOut", "ContinuedAsNew"]
const REFRESH_MS = 5000
const PAGE_SIZE = 25

export const renderExecutions = (main, params) => {
  const query = params.get("query") ?? ""
  const status = params.get("status") ?? ""
  const page = Math.max(0, Number(params.get("page") ?? "0") || 0)
  const pageSize = Math.min(200, Math.max(1, Number(params.get("pageSize") ?? PAGE_SIZE) || PAGE_SIZE))
  const hrefOf = (query, status, page) => {
    const params = new URLSearchParams()
    if (query) params.set("query", query)
    if (status) params.set("status", status)
    if (page > 0) params.set("page", String(page))
    if (pageSize !== PAGE_SIZE) params.set("pageSize", String(pageSize))
    const search = params.toString()
    return search === "" ? "#/" : `#/executions?${search}`
  }
  const input = h("input", { id: "query", name: "query", type: "search", value: query, autocomplete: "off", spellcheck: "false", "aria-describedby": "query-help query-error", placeholder: "WorkflowType = 'order' AND ExecutionStatus = 'Running'" })
  const error = h("pre", { id: "query-error", class: "query-error", role: "alert", hidden: true })
  const chips = h("div", { class: "chips", role: "group", "aria-label": "Filter by status" })
  const results = h("div", { id: "results", "aria-live": "polite", "aria-busy": "true" })
  const pager = h("nav", { class: "pager", "aria-label": "Pages" })
  const auto = h("input", { type: "checkbox", id: "auto-refresh", checked: true })
  const form = h("form", { role: "search", class: "query-form", onsubmit: (event) => {
    event.preventDefault()
    const next = hrefOf(input.value.trim(), status, 0)
    if (location.hash === next) void load()
    else location.hash = next
  } },
  h("label", { for: "query" }, "List filter"),
  h("div", { class: "query-row" }, input, h("button", { type: "submit" }, "Search")),
  h("p", { id: "query-help", class: "help" }, "Temporal's list-filter language: WorkflowId, WorkflowType, ExecutionStatus, TaskQueue, StartTime, CloseTime, ExecutionDuration and your search attributes; ORDER BY StartTime or CloseTime."),
  error)
  replace(main,
    h("h1", {}, "Executions"),
    form,
    chips,
    results,
    pager,
    h("p", { class: "refresh" }, auto, h("label", { for: "auto-refresh" }, ` Auto-refresh every ${REFRESH_MS / 1000} s`)))

  const renderChips = (counts) => {
    const chip = (label, value, n) =>
      h("a", { class: "chip", href: hrefOf(query, value, 0), "aria-current": status === value ? "true" : undefined, "data-status": value || "All" },
        label, " ", h("span", { class: "count" }, String(n ?? 0)))
    replace(chips, chip("All", "", counts.total), STATUSES.filter((s) => (counts.byStatus[s] ?? 0) > 0 || s === status).map((s) => chip(s === "Canceled" ? "Cancelled" : s, s, counts.byStatus[s])))
  }

  let timer
  let stopped = false
  const load = async () => {
    clearTimeout(timer)
    const search = new URLSearchParams({ query, page: String(page), pageSize: String(pageSize) })
    if (status) search.set("status", status)
    results.setAttribute("aria-busy", "true")
    try {
      const reply = await api(`/api/executions?${search}`)
      if (stopped) return
      // A refresh replaces the rows: keep the keyboard focus on the link it was on.
      const focused = results.contains(document.activeElement) || chips.contains(document.activeElement) || pager.contains(document.activeElement)
        ? document.activeElement.getAttribute("href") : null
      error.hidden = true
      input.removeAttribute("aria-invalid")
      renderChips(reply.counts)
      replace(results, table(
        `${reply.counts.total} execution${reply.counts.total === 1 ? "" : "s"} match${reply.counts.total === 1 ? "es" : ""}${status ? `; showing ${status}` : ""}`,
        ["Type", "Workflow ID", "Status", "Start", "Close", "Duration", "Task queue"],
        reply.executions.map((e) => [
          e.type,
          h("a", { href: executionHref(e.workflowId) }, e.workflowId),
          statusBadge(e.status),
          time(e.startTime),
          time(e.closeTime),
          duration(e.durationMs ?? Date.now() - Date.parse(e.startTime)),
          h("a", { href: taskQueueHref(e.taskQueue) }, e.taskQueue),
        ]),
        { id: "executions", class: "grid" }))
      replace(pager,
        page > 0 ? h("a", { href: hrefOf(query, status, page - 1), rel: "prev" }, "← Previous") : null,
        h("span", {}, ` Page ${page + 1} `),
        reply.hasMore ? h("a", { href: hrefOf(query, status, page + 1), rel: "next" }, "Next →") : null)
      if (focused !== null) [...main.querySelectorAll("a")].find((a) => a.getAttribute("href") === focused)?.focus()
    } catch (failure) {
      if (stopped) return
      if (failure.body?.field === "query") {
        error.textContent = failure.message
        error.hidden = false
        input.setAttribute("aria-invalid", "true")
        replace(results)
        replace(chips)
      } else replace(results, h("p", { class: "error", role: "alert" }, failure.message))
    } finally {
      results.setAttribute("aria-busy", "false")
    }
    if (!stopped && auto.checked) timer = setTimeout(() => void load(), REFRESH_MS)
  }
  auto.addEventListener("change", () => (auto.checked ? void load() : clearTimeout(timer)))
  void load()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
