// The dashboard's router: `#/` executions, `#/executions/ID` one execution,
// `#/task-queues` and `#/task-queues/NAME`. Each page renders into <main>
// and returns a function that stops its timers and charts.
import { api } from "./api.js"
import { h, replace } from "./dom.js"
import { renderExecution } from "./execution.js"
import { renderExecutions } from "./executions.js"
import { renderTaskQueue, renderTaskQueues } from "./taskQueues.js"

const main = document.getElementById("main")
let config = { readOnly: true, namespace: "" }
let cleanup = () => {}

const route = () => {
  const hash = location.hash.replace(/^#/, "") || "/"
  const [path, search = ""] = hash.split("?")
  const params = new URLSearchParams(search)
  cleanup()
  cleanup = () => {}
  let section = "executions"
  let page
  const one = /^\/executions\/(.+)$/.exec(path)
  const queue = /^\/task-queues\/(.+)$/.exec(path)
  if (one) page = renderExecution(main, decodeURIComponent(one[1]), config)
  else if (queue) {
    section = "task-queues"
    page = renderTaskQueue(main, decodeURIComponent(queue[1]), config)
  } else if (path === "/task-queues") {
    section = "task-queues"
    page = renderTaskQueues(main, config)
  } else page = renderExecutions(main, params, config)
  cleanup = page ?? (() => {})
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page")
    else link.removeAttribute("aria-current")
  }
}

const start = async () => {
  try {
    config = await api("/api/config")
  } catch (error) {
    replace(main, h("p", { role: "alert", class: "error" }, `The dashboard API is unreachable: ${error.message}`))
    return
  }
  document.getElementById("namespace").textContent = `namespace ${config.namespace}`
  document.getElementById("read-only").hidden = !config.readOnly
  document.body.classList.toggle("read-only", config.readOnly)
  window.addEventListener("hashchange", route)
  route()
}

void start()
