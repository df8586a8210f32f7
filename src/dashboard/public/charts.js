// Charts with Chart.js (its UMD build, loaded by index.html as window.Chart):
// the timeline as floating horizontal bars, one row per lane, and sparklines.

const COLORS = {
  completed: "#2e7d32",
  failed: "#c62828",
  cancelled: "#757575",
  open: "#1565c0",
  instant: "#6a1b9a",
  backoff: "#f9a825",
}

const colorOf = (bar) => (bar.kind === "backoff" ? COLORS.backoff : COLORS[bar.outcome] ?? COLORS.open)

const ms = (value) => (value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`)

/** Draw `timeline` (from the API) into `canvas`; returns the chart (destroy it when done). */
export const timelineChart = (canvas, timeline) => {
  const { origin, lanes, bars } = timeline
  canvas.parentElement.style.height = `${Math.max(120, 36 + lanes.length * 28)}px`
  return new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: lanes,
      datasets: [{
        label: "timeline",
        data: bars.map((bar) => ({ x: [bar.start - origin, bar.end - origin], y: bar.lane, bar })),
        backgroundColor: bars.map(colorOf),
        borderSkipped: false,
        minBarLength: 4,
        barPercentage: 0.7,
        categoryPercentage: 1,
        grouped: false,
      }],
    },
    options: {
      indexAxis: "y",
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      scales: {
        x: { type: "linear", min: 0, title: { display: true, text: "time since start" }, ticks: { callback: (value) => ms(Number(value)) } },
        y: { type: "category", labels: lanes },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => items[0]?.raw.bar.lane ?? "",
            label: (item) => {
              const bar = item.raw.bar
              return `${bar.label}: ${bar.outcome}, ${ms(bar.end - bar.start)}${bar.detail ? ` — ${bar.detail}` : ""}`
            },
          },
        },
      },
    },
  })
}

/** A sparkline of `values` (numbers or null) into `canvas`; returns the chart. */
export const sparkline = (canvas, values, label, color = "#1565c0") =>
  new window.Chart(canvas, {
    type: "line",
    data: { labels: values.map((_, i) => i), datasets: [{ label, data: values, borderColor: color, borderWidth: 1.5, pointRadius: 0, fill: false, spanGaps: true, tension: 0.2 }] },
    options: {
      animation: false,
      responsive: false,
      scales: { x: { display: false }, y: { display: false, beginAtZero: true } },
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
    },
  })
