// Building the page with DOM calls only: every string lands as text (never
// parsed as HTML), so a workflow id like `<script>` shows as written.

/** An element: `h("a", { href: "#/" }, "text", child)`. `on*` attributes take listeners. */
export const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value)
    else if (key === "class") el.className = value
    else el.setAttribute(key, value === true ? "" : String(value))
  }
  append(el, children)
  return el
}

const append = (el, children) => {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
}

/** Replace `el`'s children. */
export const replace = (el, ...children) => {
  el.replaceChildren()
  append(el, children)
  return el
}

/** Epoch ms or ISO string as `2026-12-02 17:32:45.120Z` (UTC). */
export const time = (value) => {
  if (value === undefined || value === null) return "—"
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace("T", " ")
}

/** Milliseconds as `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 03 m`. */
export const duration = (ms) => {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return "—"
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} m ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")} s`
  return `${Math.floor(ms / 3_600_000)} h ${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, "0")} m`
}

/** A status badge: `RUNNING` → "Running". */
export const statusBadge = (status) =>
  h("span", { class: `status status-${String(status).toLowerCase()}` }, String(status).replace(/_/g, " ").toLowerCase().replace(/^./, (c) => c.toUpperCase()))

/** Links. */
export const executionHref = (workflowId) => `#/executions/${encodeURIComponent(workflowId)}`
export const taskQueueHref = (name) => `#/task-queues/${encodeURIComponent(name)}`

/** A short message in the live region. */
export const toast = (text, kind = "info") => {
  const el = document.getElementById("toast")
  el.className = `toast-${kind}`
  el.textContent = text
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => (el.textContent = ""), 5000)
}
let toastTimer

/** Ask before a destructive action; resolves true when confirmed. */
export const confirmAction = (title, text) => new Promise((resolve) => {
  const dialog = document.getElementById("confirm")
  document.getElementById("confirm-title").textContent = title
  document.getElementById("confirm-text").textContent = text
  dialog.returnValue = ""
  dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true })
  dialog.showModal()
  document.getElementById("confirm-ok").focus()
})

/** A table with a caption, column headers and rows of cells (strings or nodes). */
export const table = (caption, head, rows, attrs = {}) =>
  h("table", attrs,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, head.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows.length === 0
      ? h("tr", {}, h("td", { colspan: head.length, class: "empty" }, "None."))
      : rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))))
