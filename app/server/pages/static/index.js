// The job list and the upload form. User data (job names, errors) goes into the page as text only.
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
    row.append(name, cell(job.status, "status"), cell(job.stage), cell(job.estimator || "–"));
    return row;
  });
  document.querySelector("#jobs tbody").replaceChildren(...rows);
}

document.getElementById("upload").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = new FormData();
  body.append("file", document.getElementById("file").files[0]);
  body.append("train_minutes", document.getElementById("minutes").value);
  body.append("walk_cycle", document.getElementById("walk").checked ? "true" : "false");
  body.append("estimator", document.getElementById("estimator").value);
  body.append("assist", document.getElementById("assist").checked ? "true" : "false");
  const message = document.getElementById("message");
  message.textContent = "uploading...";
  const reply = await fetch("/api/jobs", { method: "POST", body });
  const data = await reply.json();
  if (reply.ok) {
    location.href = "/jobs/" + encodeURIComponent(data.id);
  } else {
    message.textContent = data.error;
    message.className = "err";
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
