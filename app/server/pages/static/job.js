// One job: its progress (an event stream), the verdict with the replay beside the source video
// (played together), metrics, training chart, grouped downloads, the 3D viewer and actions.
// User data (the job's name, its error, metric names and values, file names) goes into the page as text only.
"use strict";

const id = decodeURIComponent(location.pathname.split("/").pop());
const file = (p) => `/files/${encodeURIComponent(id)}/${p.split("/").map(encodeURIComponent).join("/")}`;
const api = `/api/jobs/${encodeURIComponent(id)}`;
const SVG = "http://www.w3.org/2000/svg";
const GROUPS = { animation: "For animation", research: "For research", diagnostics: "Diagnostics" };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// A number with at most three significant figures (the report's own rounding, for older reports).
function rounded(value) {
  if (typeof value !== "number" || !isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}

function show(job) {
  document.getElementById("title").textContent = job.name;
  document.getElementById("status").textContent = job.status;
  document.getElementById("stage").textContent = job.stage;
  document.getElementById("estimator").textContent = job.estimator || "the server's";
  document.getElementById("assisted").hidden = !job.assist;
  document.getElementById("bar").value = job.status === "done" ? 6 : job.stage_index;
  document.getElementById("bar").hidden = job.status === "done";  // the verdict says how it went
  document.getElementById("error").textContent = job.error;
}

// The report's chart spec (app/report.py: chart) as SVG: axes with units, training episodes, evaluations as markers.
function drawChart(spec) {
  const holder = document.getElementById("curve");
  if (!spec) { holder.replaceChildren(el("p", "No training chart in this job's report.", "note")); return; }
  const width = Math.round(Math.max(320, Math.min(640, holder.clientWidth || 640))), height = 260, left = 52, right = 16, top = 14, bottom = 42, w = width - left - right, h = height - top - bottom;
  const sx = (x) => left + x / spec.x_max * w, sy = (y) => top + h - y / spec.y_max * h;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${spec.y_label} against ${spec.x_label}` });
  for (let k = 0; k <= 4; k++) {
    const y = spec.y_max * k / 4, x = spec.x_max * k / 4;
    chart.append(svg("line", { class: "grid", x1: left, x2: left + w, y1: sy(y), y2: sy(y) }),
                 svg("text", { class: "tick", x: left - 6, y: sy(y) + 4, "text-anchor": "end" }, rounded(y)),
                 svg("text", { class: "tick", x: sx(x), y: top + h + 16, "text-anchor": "middle" }, rounded(x)));
  }
  chart.append(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: top + h }), svg("line", { class: "axis", x1: left, x2: left + w, y1: top + h, y2: top + h }),
               svg("text", { class: "label", x: left + w / 2, y: height - 4, "text-anchor": "middle" }, spec.x_label),
               svg("text", { class: "label", transform: `translate(12 ${top + h / 2}) rotate(-90)`, "text-anchor": "middle" }, spec.y_label));
  if (spec.series.length > 1) chart.append(svg("polyline", { class: "series", points: spec.series.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ") }));
  else for (const [x, y] of spec.series) chart.append(svg("circle", { class: "point", cx: sx(x), cy: sy(y), r: 3 }));
  const legend = el("ul", null, "legend");
  if (spec.series.length) legend.append(el("li", spec.series_label || "training episodes", "series"));
  for (const m of spec.markers) {
    const dot = svg("circle", { class: "marker", cx: sx(m.x), cy: sy(m.y), r: 5 });
    dot.append(svg("title", {}, m.label));
    chart.append(dot);
    legend.append(el("li", m.label));
  }
  holder.replaceChildren(chart, legend);
  if (spec.note) holder.append(el("p", spec.note, "note"));
}

function metricRow(label, value, tip) {
  const row = el("tr");
  if (tip) row.title = tip;
  row.append(el("td", label, "label"), el("td", value), el("td", tip || "", "tip"));
  return row;
}

function metricRows(report) {
  if (Array.isArray(report.metrics)) return report.metrics.map((m) => metricRow(m.label, m.value, m.tip));
  // a report from before worded metrics: its figures as they are, numbers rounded, no server paths
  const entries = Object.entries(report.evaluation || {}).concat(Object.entries(report.replay || {}).map(([k, v]) => [`replay ${k}`, v]));
  return entries.filter(([, v]) => !(typeof v === "string" && v.startsWith("/")))
    .map(([k, v]) => metricRow(k, typeof v === "object" ? JSON.stringify(v) : rounded(v)));
}

function downloadItem(name, label) {
  const link = el("a", label ? name.split("/").pop() : name, "download");
  link.href = file(name);
  const item = el("li");
  item.append(link);
  if (label) item.append(el("span", label));
  return item;
}

function downloadGroups(report, files) {
  const known = report.downloads || {};
  const listed = new Set();
  const blocks = [];
  for (const [group, title] of Object.entries(GROUPS)) {
    let items = (known[group] || []).filter((i) => files.includes(i.file));
    if (group === "diagnostics") items = files.filter((f) => !listed.has(f)).map((f) => ({ file: f, label: "" }));
    items.forEach((i) => listed.add(i.file));
    if (!items.length) continue;
    const list = el("ul");
    list.append(...items.map((i) => downloadItem(i.file, i.label)));
    if (group === "diagnostics") {
      const fold = el("details");
      fold.id = "diagnostics";
      fold.append(el("summary", `${title} (${items.length} files)`), list);
      blocks.push(fold);
    } else {
      const block = el("div");
      block.id = group;
      block.append(el("h3", title), list);
      blocks.push(block);
    }
  }
  return blocks;
}

// The source video follows the replay: play, pause, seek and rate; for a looped gait cycle, the
// replay's instant t shows the video's cycle at start + (t mod loop).
function synchronise(replay, source, sync) {
  const sourceTime = (t) => {
    const at = sync ? sync.start_s + (t % sync.loop_s) : t;
    return isFinite(source.duration) ? Math.min(at, Math.max(source.duration - 0.05, 0)) : at;
  };
  const align = (tolerance) => { const at = sourceTime(replay.currentTime); if (Math.abs(source.currentTime - at) > tolerance) source.currentTime = at; };
  replay.addEventListener("play", () => { align(0.05); source.play().catch(() => {}); });
  replay.addEventListener("pause", () => { source.pause(); align(0.05); });
  replay.addEventListener("seeked", () => align(0.05));
  replay.addEventListener("ratechange", () => { source.playbackRate = replay.playbackRate; });
  replay.addEventListener("timeupdate", () => align(0.25));
  replay.addEventListener("ended", () => source.pause());
  window.videoSync = { sourceTime };  // for the browser tests
}

let loaded = false;

async function loadResults() {
  const reply = await fetch(api);
  if (!reply.ok) { document.getElementById("error").textContent = (await reply.json()).error; return; }
  const job = await reply.json();
  show(job);
  if (job.status !== "done" || !job.report || loaded) return;
  loaded = true;  // the results of a finished job do not change: draw them (and start the viewer) once
  const report = job.report;
  document.getElementById("results").hidden = false;
  const verdict = report.verdict;
  document.getElementById("verdict-text").textContent = verdict ? verdict.sentence : (report.replay && report.replay.fell ? "The character fell during the replay." : "The replay ran to its end.");
  document.getElementById("verdict").classList.add(verdict ? (verdict.stood ? "good" : "bad") : "plain");
  document.getElementById("controller").textContent = [report.replay_sentence, report.controller_sentence].filter(Boolean).join(" ");
  const overlay = document.getElementById("overlay"), replay = document.getElementById("replay");
  overlay.src = file("estimate/overlay.webm");
  replay.src = file("replay.webm");
  synchronise(replay, overlay, report.sync || null);
  document.getElementById("side").src = file("estimate/side_view.webm");
  drawChart(report.chart);
  const glbs = [file("export/sim.glb"), file("export/reference.glb")];
  if (window.startViewer) window.startViewer(...glbs); else window.pendingViewer = glbs;  // the module may load later
  document.getElementById("metrics").replaceChildren(...metricRows(report));
  document.getElementById("downloads").replaceChildren(...downloadGroups(report, job.files || []));
  if ((job.files || []).includes("report.html")) {
    const link = document.getElementById("report-link");
    link.href = file("report.html");
    link.hidden = false;
  }
}

const events = new EventSource(`${api}/events`);
events.onmessage = (e) => { const job = JSON.parse(e.data); show(job); if (job.status === "done" || job.status === "failed") { events.close(); loadResults(); } };
events.onerror = () => { if (events.readyState === EventSource.CLOSED) loadResults(); };

async function post(path, field, value) {
  const body = new FormData(); body.append(field, value);
  const reply = await fetch(`${api}/${path}`, { method: "POST", body });
  if (reply.ok) location.reload(); else alert((await reply.json()).error);
}
document.getElementById("train").onclick = () => post("train-more", "minutes", document.getElementById("more").value);
document.getElementById("replay-again").onclick = () => post("replay", "seconds", document.getElementById("replay-seconds").value);
document.getElementById("delete").onclick = async () => {
  const reply = await fetch(api, { method: "DELETE" });
  if (reply.ok) location.href = "/"; else alert((await reply.json()).error);
};
loadResults();
