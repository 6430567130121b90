"""``report.json`` and ``report.html`` of a ``vidmimic run`` job: what the job produced, in words.

``report.json`` keeps the stages' figures as they are (``evaluation``, ``replay``, ``controller``,
``training_curve``) and adds what a reader needs, already worded: ``verdict`` (did the character
stay up, and for how long), ``metrics`` (label, rounded value with its unit, one-line tip),
``chart`` (the training curve with the evaluations on it), ``downloads`` (files grouped by who
needs them) and ``sync`` (which instant of the source video each instant of the replay shows).
The web app's job page and ``report.html`` both show these. ``report.html`` is one static file
with the web app's stylesheet inlined: the server sends it with a policy that allows inline
styles and no scripts, and it also opens from a copied folder.
"""

from __future__ import annotations

import csv
import html
import json
import math
from dataclasses import asdict
from pathlib import Path

STYLESHEET = Path(__file__).with_name("server") / "pages" / "static" / "style.css"
CONTROL_HZ = 30.0  # Hz, the control rate when a run's config does not say
DOWNLOAD_GROUPS = {
    "animation": {
        "export/sim.bvh": "simulated motion, BVH skeleton (Blender, Maya, MotionBuilder)",
        "export/sim.glb": "simulated motion, glTF binary",
        "export/reference.bvh": "reference motion (the video's, on the character), BVH skeleton",
        "export/reference.glb": "reference motion, glTF binary",
        "replay.webm": "replay video: the simulated character and its reference",
    },
    "research": {
        "export/sim_smpl.npz": "simulated motion as SMPL parameters (AMASS npz)",
        "estimate/motion_smpl.npz": "the video's motion as SMPL parameters (AMASS npz)",
        "motion.txt": "reference motion, DeepMimic motion file",
        "sim_motion.txt": "simulated motion, DeepMimic motion file",
        "train/policy.zip": "the controller (stable-baselines3 policy)",
    },
}
GROUP_TITLES = {"animation": "For animation", "research": "For research", "diagnostics": "Diagnostics"}
HIDDEN = {"tb", "snapshots", "clips"}  # folders of training internals, never listed


def write_report(out: Path, video: Path, options, train_dir: Path) -> dict:
    """Write ``out/report.json`` and ``out/report.html`` for the job in ``out``; returns the report."""
    controller = _json(out / "controller.json")
    evaluation = json.loads((out / "evaluation.json").read_text())
    replay = json.loads((out / "replay.json").read_text())
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not HIDDEN & set(p.relative_to(out).parts))
    files = sorted(set(files) | {"report.html", "report.json"})
    curve = _curve(train_dir / "progress.csv")
    env = (_json(train_dir / "config.json") or {}).get("env") or {}
    control_hz = float(env.get("control_hz") or CONTROL_HZ)
    clip = _clip_seconds(out, options, controller)
    report = {
        "video": str(video),
        "options": asdict(options),
        "cycle": _json(out / "cycle.json"),
        "controller": controller,
        "controller_sentence": _controller_sentence(controller),
        "replay_sentence": _replay_sentence(replay),
        "evaluation": evaluation,
        "replay": replay,
        "training_curve": curve,
        "files": files,
        "verdict": verdict(replay, clip, controller, looped=bool(options.loop)),
        "metrics": metrics(evaluation, replay),
        "chart": chart(curve, control_hz, evaluation, controller, clip, env.get("episode_seconds")),
        "downloads": downloads(files),
        "sync": _sync(out),
    }
    _write_atomic(out / "report.json", json.dumps(report, indent=1))
    _write_atomic(out / "report.html", report_html(report))
    return report


def _json(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _curve(progress_csv: Path) -> list[dict]:
    if not progress_csv.exists():
        return []
    with progress_csv.open() as f:
        return [{"steps": int(r["steps"]), "episode_return": float(r["episode_return"]), "episode_length": float(r["episode_length"])} for r in csv.DictReader(f)]


def _clip_seconds(out: Path, options, controller: dict | None) -> float:
    """Length (s) of what the replay plays: the clip for the tracker, else the replay's length (10 s of a looped clip)."""
    if controller is not None:
        chosen = controller["candidates"].get(controller["chosen"], {})
        if chosen.get("clip_seconds"):
            return float(chosen["clip_seconds"])
    if options.replay_seconds:
        return float(options.replay_seconds)
    motion = _json(out / "motion.txt") or {}
    if motion.get("Loop") == "wrap":
        return 10.0
    frames = motion.get("Frames") or []
    return float(sum(f[0] for f in frames[:-1])) or 10.0


def _sync(out: Path) -> dict | None:
    """Which part of the source video the replay plays: ``{"start_s", "loop_s"}`` for a looped gait cycle, None if from the start."""
    cycle = _json(out / "cycle.json")
    smpl = out / "estimate" / "motion_smpl.npz"
    if not cycle or not smpl.exists():
        return None
    import numpy as np

    with np.load(smpl) as data:
        fps = float(data["mocap_framerate"])
    return {"start_s": round(cycle["start"] / fps, 3), "loop_s": round(cycle["length"] / fps, 3)}


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def verdict(replay: dict, clip_seconds: float, controller: dict | None = None, looped: bool = False) -> dict:
    """Did the character stay up for the whole clip, in words. ``replay``: replay.json; ``clip_seconds``: s."""
    seconds = float(replay["seconds"])
    what = f"{_seconds(clip_seconds)} replay of the looped clip" if looped else f"{_seconds(clip_seconds)} clip"
    percent = round(100 * min(seconds / clip_seconds, 1.0)) if clip_seconds > 0 else 0
    if not replay["fell"]:
        sentence = f"Stood for the whole {what}."
    else:
        fell = True
        if controller is not None:  # the tracker's replay ends on a fall or on straying more than 0.5 m
            fell = bool(controller["candidates"].get(controller["chosen"], {}).get("falls", 1))
        action = "Fell" if fell else "Strayed more than 0.5 m from the reference"
        sentence = f"{action} after {_seconds(seconds)}, at {percent} % of the {what}."
    return {"sentence": sentence, "stood": not replay["fell"], "seconds": round(seconds, 2), "clip_seconds": round(clip_seconds, 2), "percent": percent}


def _number(value: float) -> str:
    """At most three significant figures, no exponent for everyday sizes."""
    if value == 0 or not math.isfinite(value):
        return str(value if math.isfinite(value) else "–")
    digits = max(0, 2 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{digits}f}"


def metrics(evaluation: dict, replay: dict) -> list[dict]:
    """The evaluation's and the replay's figures as ``{"label", "value", "tip"}`` rows, worded and rounded."""
    ev, rows = evaluation, []
    tries = ev.get("episodes")
    span = f"{_seconds(ev['seconds'])} " if isinstance(ev.get("seconds"), (int, float)) else ""

    def add(label: str, value: str, tip: str) -> None:
        rows.append({"label": label, "value": value, "tip": tip})

    if isinstance(ev.get("clip_seconds"), (int, float)):
        add("Clip length", _seconds(ev["clip_seconds"]), "length of the reference motion the controller follows")
    if isinstance(tries, int) and isinstance(ev.get("falls"), int):
        add("Falls", f"{ev['falls']} of {tries} tries", f"tries of {span}from random points of the clip in which the character fell")
    if isinstance(ev.get("success_rate"), (int, float)):
        add("Tries followed to the end", f"{100 * ev['success_rate']:.0f} %", "tries that reached their end without a fall and with the mean body-position error under 0.5 m")
    if isinstance(ev.get("deviations"), int):
        add("Tries that strayed", f"{ev['deviations']} of {tries}", "tries stopped because the character strayed more than 0.5 m from the reference")
    if isinstance(ev.get("mean_episode_seconds"), (int, float)):
        of = f" of {_seconds(ev['seconds'])}" if span else ""
        add("Time on its feet", f"{_seconds(ev['mean_episode_seconds'])}{of}", "mean time a try lasted before a fall or its end")
    if isinstance(ev.get("mean_pose_error_deg"), (int, float)):
        add("Pose error", f"{_number(ev['mean_pose_error_deg'])}°", "mean angle between the simulated and the reference joint rotations")
    if isinstance(ev.get("mean_body_pos_error_mm"), (int, float)):
        add("Body position error", f"{_number(ev['mean_body_pos_error_mm'])} mm", "mean distance between the simulated and the reference body parts, measured from the root")
    if isinstance(ev.get("mean_root_drift_m"), (int, float)):
        add("Drift from the reference", f"{_number(ev['mean_root_drift_m'])} m", "mean distance between the character's root and the reference's at the end of a try")
    if isinstance(ev.get("mean_reward"), (int, float)):
        add("Imitation reward", f"{ev['mean_reward']:.2f} per step (0 to 1)", "how closely each control step matched the reference's pose, velocity, hands, feet and centre of mass")
    if isinstance(ev.get("explosions"), int):
        add("Simulation blow-ups", str(ev["explosions"]), "tries the physics simulation could not integrate (0 is normal)")
    if ev.get("assisted") and isinstance(ev.get("assist_mean_n_per_kg"), (int, float)):
        add("Assistance force", f"{ev['assist_mean_n_per_kg']:.2f} N/kg", "mean invisible force on the root that helped the character: not physics alone")
    if isinstance(replay.get("seconds"), (int, float)):
        add("Replay from the start", _seconds(replay["seconds"]) + (", fell" if replay.get("fell") else ""), "how long the replay video ran before its end or a fall")
    if isinstance(replay.get("travel_m"), (int, float)):
        add("Distance moved in the replay", f"{_number(replay['travel_m'])} m", "horizontal distance between the character's first and last position in the replay")
    return rows


def chart(curve: list[dict], control_hz: float, evaluation: dict, controller: dict | None, clip_seconds: float,
          episode_seconds: float | None = None) -> dict:
    """The training chart: seconds on its feet per training episode against training samples, with the evaluations as markers.

    Returns ``{"x_label", "y_label", "x_max", "y_max", "series": [[x, y], ...], "markers": [{"x", "y", "label"}], "note"}``
    with x in thousands of samples and y in seconds. ``episode_seconds``: the training episodes' cap (s), if known.
    """
    series = [[p["steps"] / 1000, p["episode_length"] / control_hz] for p in curve if p["episode_length"] == p["episode_length"]]
    last = series[-1][0] if series else 0.0
    markers = []
    if controller is not None:
        for name, figures in controller["candidates"].items():
            x = 0.0 if name == "tracker" else last
            outcome = "followed to the end" if figures.get("success") else f"{figures.get('mean_episode_seconds', 0):.1f} s"
            markers.append({"x": x, "y": float(figures.get("mean_episode_seconds", 0)), "label": f"{name}, from the clip's start: {outcome}"})
    elif isinstance(evaluation.get("mean_episode_seconds"), (int, float)):
        tries = f" in tries of {_seconds(evaluation['seconds'])}" if isinstance(evaluation.get("seconds"), (int, float)) else ""
        markers.append({"x": last, "y": float(evaluation["mean_episode_seconds"]),
                        "label": f"evaluation: {evaluation['mean_episode_seconds']:.1f} s on its feet{tries}"})
    ys = [y for _, y in series] + [m["y"] for m in markers] + [clip_seconds]
    xs = [x for x, _ in series] + [m["x"] for m in markers]
    if not series:
        note = "No training iteration was recorded: the controller was used as it was."
    elif len(series) == 1:
        note = "One training iteration: too short a job for a curve."
    else:
        note = ""
    series_label = f"training episodes (at most {_seconds(episode_seconds)})" if episode_seconds else "training episodes"
    return {"x_label": "training samples (thousands)", "y_label": "seconds on its feet per episode", "x_max": _nice(max(xs, default=1.0)),
            "y_max": _nice(max(ys)), "series": [[round(x, 3), round(y, 3)] for x, y in series], "series_label": series_label,
            "markers": markers, "note": note}


def _nice(value: float) -> float:
    """The smallest round number at least ``value`` whose quarters are round too (an axis end with four ticks)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10) if m * power >= value - 1e-12)


def downloads(files: list[str]) -> dict[str, list[dict]]:
    """``files`` (relative paths) grouped: animation, research, diagnostics (everything else), each ``{"file", "label"}``."""
    groups: dict[str, list[dict]] = {name: [] for name in GROUP_TITLES}
    for group, known in DOWNLOAD_GROUPS.items():
        groups[group] = [{"file": f, "label": label} for f, label in known.items() if f in files]
    listed = {item["file"] for items in groups.values() for item in items}
    groups["diagnostics"] = [{"file": f, "label": ""} for f in files if f not in listed]
    return groups


def _replay_sentence(outcome: dict) -> str:
    """One line on how the replay went: how long, how far, and whether the character fell."""
    verdict = "fell" if outcome["fell"] else "did not fall"
    return f"Replayed {outcome['seconds']:.1f} s from the clip's start: it {verdict} and moved {outcome['travel_m']:.1f} m."


def _controller_sentence(controller: dict | None) -> str:
    """Which controller the job kept, and how each candidate followed the clip from its start."""
    if controller is None:
        return "A per-clip imitation policy trained for this clip."
    parts = [f"{name}: followed {f['mean_episode_seconds']:.1f} of {f['clip_seconds']:.1f} s"
             f"{' to the end' if f['success'] else (', fell' if f['falls'] else ', strayed over 0.5 m')}, mean body-position error {f['mean_body_pos_error_mm']:.0f} mm"
             for name, f in controller["candidates"].items()]
    assisted = [f" — ASSISTED: an invisible force holds the character up, {f['assist_mean_n_per_kg']:.2f} N per kg on average; not physics alone"
                for name, f in controller["candidates"].items() if name == controller["chosen"] and f.get("assisted")]
    return f"Started from the general motion tracker; kept the {controller['chosen']} controller ({'; '.join(parts)}){''.join(assisted)}."


def chart_svg(spec: dict, width: int = 640, height: int = 260) -> str:
    """The chart as inline SVG (the job page draws the same spec with job.js)."""
    left, right, top, bottom = 52, 16, 14, 42
    w, h = width - left - right, height - top - bottom
    sx = lambda x: left + x / spec["x_max"] * w  # noqa: E731
    sy = lambda y: top + h - y / spec["y_max"] * h  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(spec["y_label"])} against {html.escape(spec["x_label"])}">']
    for k in range(5):
        y, x = spec["y_max"] * k / 4, spec["x_max"] * k / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{left + w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}"/><text class="tick" x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        parts.append(f'<text class="tick" x="{sx(x):.1f}" y="{top + h + 16}" text-anchor="middle">{x:g}</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + h}"/><line class="axis" x1="{left}" x2="{left + w}" y1="{top + h}" y2="{top + h}"/>')
    parts.append(f'<text class="label" x="{left + w / 2}" y="{height - 4}" text-anchor="middle">{html.escape(spec["x_label"])}</text>')
    parts.append(f'<text class="label" transform="translate(12 {top + h / 2}) rotate(-90)" text-anchor="middle">{html.escape(spec["y_label"])}</text>')
    points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in spec["series"])
    if len(spec["series"]) > 1:
        parts.append(f'<polyline class="series" points="{points}"/>')
    parts += [f'<circle class="point" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3"/>' for x, y in spec["series"][-1:] if len(spec["series"]) == 1]
    for m in spec["markers"]:
        parts.append(f'<circle class="marker" cx="{sx(m["x"]):.1f}" cy="{sy(m["y"]):.1f}" r="5"><title>{html.escape(m["label"])}</title></circle>')
    parts.append("</svg>")
    legend = "".join(f"<li>{html.escape(m['label'])}</li>" for m in spec["markers"])
    if spec["series"]:
        legend = f'<li class="series">{html.escape(spec.get("series_label", "training episodes"))}</li>' + legend
    note = f'<p class="note">{html.escape(spec["note"])}</p>' if spec["note"] else ""
    return "".join(parts) + (f'<ul class="legend">{legend}</ul>' if legend else "") + note


def report_html(report: dict) -> str:
    """The report as one static page (stylesheet inlined, no script)."""
    esc = html.escape
    verdict_ = report["verdict"]
    rows = "".join(f'<tr title="{esc(m["tip"])}"><td class="label">{esc(m["label"])}</td><td>{esc(m["value"])}</td><td class="tip">{esc(m["tip"])}</td></tr>'
                   for m in report["metrics"])
    groups = []
    for name, items in report["downloads"].items():
        links = "".join(f'<li><a class="download" href="{esc(i["file"])}">{esc(Path(i["file"]).name if i["label"] else i["file"])}</a>'
                        f'{" <span>" + esc(i["label"]) + "</span>" if i["label"] else ""}</li>' for i in items)
        block = f"<div><h3>{GROUP_TITLES[name]}</h3><ul>{links}</ul></div>"
        groups.append(f"<details><summary>{GROUP_TITLES[name]} ({len(items)} files)</summary><ul>{links}</ul></details>" if name == "diagnostics" else block)
    style = STYLESHEET.read_text() if STYLESHEET.exists() else ""
    status = "good" if verdict_["stood"] else "bad"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>vidmimic report: {esc(Path(report['video']).name)}</title><style>{style}</style></head><body class="wide">
<header><h1>{esc(Path(report['video']).name)}</h1></header>
<section class="verdict {status}"><p class="headline">{esc(verdict_['sentence'])}</p>
<p>{esc(report['replay_sentence'])} {esc(report['controller_sentence'])}</p></section>
<section class="pair"><figure><video src="estimate/overlay.webm" controls loop muted></video><figcaption>Your video, with the estimated pose</figcaption></figure>
<figure><video src="replay.webm" controls loop muted></video><figcaption>Orange: the simulated character; light blue: the reference</figcaption></figure></section>
<section><h2>How well it imitates</h2><table class="metrics">{rows}</table></section>
<section><h2>Training</h2>{chart_svg(report['chart'])}</section>
<section><h2>Downloads</h2><div class="downloads">{''.join(groups)}</div></section>
<footer><p>Made by vidmimic. The web app's job page plays the two videos together and shows the motion in 3D.</p></footer>
</body></html>
"""
