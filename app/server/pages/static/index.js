// The job list and the upload form (with the camera on a phone, and the upload's progress in percent).
// User data (job names, errors) goes into the page as text only.
"use strict";

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function refresh() {
  const reply = await fetch("/api/jobs");
  if (!reply.ok) return;
  const rows = (await reply.json()).map((job) => {
    const link = document.createElement("a");
    link.href = "/jobs/" + encodeURIComponent(job.id);
    link.textContent = job.name;
    const name = document.createElement("td");
    name.append(link);
    const row = document.createElement("tr");
    row.append(name, cell(job.status, "status"), cell(job.stage), cell(job.estimator || "–", "wide-only"));
    return row;
  });
  document.querySelector("#jobs tbody").replaceChildren(...rows);
}

const message = document.getElementById("message");
const state = document.getElementById("upload-state");
const bar = document.getElementById("upload-bar");
const percent = document.getElementById("percent");
const send = document.getElementById("send");
let chosen = null;  // the video last picked, from the camera or from the files

function say(text, isError) {
  message.textContent = text;
  message.className = isError ? "err" : "muted";
}

for (const id of ["camera", "file"]) {
  document.getElementById(id).addEventListener("change", (e) => {
    if (!e.target.files.length) return;
    chosen = e.target.files[0];
    const mb = chosen.size / (1 << 20);
    document.getElementById("chosen").textContent = `${chosen.name} (${mb < 10 ? mb.toFixed(1) : mb.toFixed(0)} MB)`;
    say("", false);
  });
}

function showProgress(fraction) {
  const value = Math.min(100, Math.floor(fraction * 100));
  bar.value = value;
  percent.textContent = `${value} %`;
}

// XMLHttpRequest rather than fetch: only it reports the request body's progress.
function upload(body) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/jobs");
    request.responseType = "json";
    request.upload.onprogress = (e) => { if (e.lengthComputable) showProgress(e.loaded / e.total); };
    request.onload = () => resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, data: request.response || {} });
    request.onerror = () => resolve({ ok: false, status: 0, data: { error: "the upload did not reach the server (connection lost, or the server refused a file that large)" } });
    request.send(body);
  });
}

document.getElementById("upload").addEventListener("submit", async (e) => {
  e.preventDefault();
  const video = chosen || document.getElementById("file").files[0] || document.getElementById("camera").files[0];
  if (!video) { say("Choose or record a video first.", true); return; }
  const body = new FormData();
  body.append("file", video);
  body.append("train_minutes", document.getElementById("minutes").value);
  body.append("walk_cycle", document.getElementById("walk").checked ? "true" : "false");
  body.append("estimator", document.getElementById("estimator").value);
  body.append("assist", document.getElementById("assist").checked ? "true" : "false");
  say("", false);
  state.hidden = false;
  showProgress(0);
  send.disabled = true;
  const reply = await upload(body);
  send.disabled = false;
  if (reply.ok) {
    showProgress(1);
    say("Uploaded: opening the job…", false);
    location.href = "/jobs/" + encodeURIComponent(reply.data.id);
  } else {
    state.hidden = true;
    say(`The server refused the video: ${reply.data.error || `HTTP ${reply.status}`}`, true);
  }
});

async function sessionButton() {
  const reply = await fetch("/api/session");
  if (!reply.ok) return;
  const button = document.getElementById("logout");
  button.hidden = !(await reply.json()).session;
  button.onclick = async () => {
    await fetch("/api/session", { method: "DELETE" });
    location.reload();
  };
}

refresh();
sessionButton();
setInterval(refresh, 3000);
