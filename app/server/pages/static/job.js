// One job: its progress (an event stream), results, 3D viewer, downloads and actions.
// User data (the job's name, its error, metric names and values, file names) goes into the page as text only.
"use strict";

const id = decodeURIComponent(location.pathname.split("/").pop());
const file = (p) => `/files/${encodeURIComponent(id)}/${p.split("/").map(encodeURIComponent).join("/")}`;
const api = `/api/jobs/${encodeURIComponent(id)}`;

function show(job) {
  document.getElementById("title").textContent = job.name;
  document.getElementById("status").textContent = job.status;
  document.getElementById("stage").textContent = job.stage;
  document.getElementById("estimator").textContent = job.estimator || "the server's";
  document.getElementById("assisted").hidden = !job.assist;
  document.getElementById("bar").value = job.status === "done" ? 6 : job.stage_index;
  document.getElementById("error").textContent = job.error;
}

function drawCurve(points) {
  const c = document.getElementById("curve").getContext("2d");
  const ys = points.map(p => p.episode_return).filter(v => v === v);
  if (ys.length < 2) { c.fillText(ys.length ? `one training iteration: episode return ${Number(ys[0]).toFixed(2)}` : "no training iteration recorded", 12, 12); return; }
  const lo = Math.min(...ys), hi = Math.max(...ys) || 1;
  c.strokeStyle = "#d9822b"; c.lineWidth = 2; c.beginPath();
  ys.forEach((v, i) => { const x = 10 + i / (ys.length - 1) * 540, y = 190 - (v - lo) / ((hi - lo) || 1) * 170; i ? c.lineTo(x, y) : c.moveTo(x, y); });
  c.stroke(); c.fillText(`episode return ${lo.toFixed(2)} .. ${hi.toFixed(2)}`, 12, 12);
}

function textRow(...values) {
  const row = document.createElement("tr");
  for (const v of values) {
    const td = document.createElement("td");
    td.textContent = typeof v === "object" ? JSON.stringify(v) : String(v);
    row.append(td);
  }
  return row;
}

function downloadItem(name) {
  const link = document.createElement("a");
  link.className = "download";
  link.href = file(name);
  link.textContent = name;
  const item = document.createElement("li");
  item.append(link);
  return item;
}

async function loadResults() {
  const reply = await fetch(api);
  if (!reply.ok) { document.getElementById("error").textContent = (await reply.json()).error; return; }
  const job = await reply.json();
  show(job);
  if (job.status !== "done" || !job.report) return;
  document.getElementById("results").hidden = false;
  document.getElementById("overlay").src = file("estimate/overlay.webm");
  document.getElementById("side").src = file("estimate/side_view.webm");
  document.getElementById("replay").src = file("replay.webm");
  drawCurve(job.report.training_curve || []);
  document.getElementById("controller").textContent = job.report.controller_sentence || "";
  const glbs = [file("export/sim.glb"), file("export/reference.glb")];
  if (window.startViewer) window.startViewer(...glbs); else window.pendingViewer = glbs;  // the module may load later
  const replayed = Object.entries(job.report.replay || {}).map(([k, v]) => [`replay_${k}`, v]);
  const metrics = Object.entries(job.report.evaluation || {}).concat(replayed);
  document.getElementById("metrics").replaceChildren(...metrics.map(([k, v]) => textRow(k, v)));
  document.getElementById("downloads").replaceChildren(...job.files.filter(f => /\.(bvh|glb|npz|txt|zip|webm|mp4|json)$/.test(f)).map(downloadItem));
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
