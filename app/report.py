"""``report.json`` and ``report.html`` of a ``vidmimic run`` job: what the job produced, in words."""

from __future__ import annotations

import csv
import html
import json
from dataclasses import asdict
from pathlib import Path


def write_report(out: Path, video: Path, options, train_dir: Path) -> dict:
    """Write ``out/report.json`` and ``out/report.html`` for the job in ``out``; returns the report."""
    controller = json.loads((out / "controller.json").read_text()) if (out / "controller.json").exists() else None
    report = {
        "video": str(video),
        "options": asdict(options),
        "cycle": json.loads((out / "cycle.json").read_text()) if (out / "cycle.json").exists() else None,
        "controller": controller,
        "controller_sentence": _controller_sentence(controller),
        "evaluation": json.loads((out / "evaluation.json").read_text()),
        "replay": json.loads((out / "replay.json").read_text()),
        "training_curve": _curve(train_dir / "progress.csv"),
        "files": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and "tb" not in p.parts and "snapshots" not in p.parts and "clips" not in p.parts),
    }
    (out / "report.json").write_text(json.dumps(report, indent=1))
    (out / "report.html").write_text(_report_html(report))
    return report


def _curve(progress_csv: Path) -> list[dict]:
    if not progress_csv.exists():
        return []
    with progress_csv.open() as f:
        return [{"steps": int(r["steps"]), "episode_return": float(r["episode_return"]), "episode_length": float(r["episode_length"])} for r in csv.DictReader(f)]


def _svg_curve(points: list[dict], key: str, width: int = 560, height: int = 200) -> str:
    values = [p[key] for p in points if p[key] == p[key]]  # drop NaN
    if len(values) < 2:
        return "<p>(not enough training iterations for a curve)</p>"
    steps = [p["steps"] for p in points if p[key] == p[key]]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    xy = " ".join(f"{40 + (s - steps[0]) / max(steps[-1] - steps[0], 1) * (width - 50):.1f},{height - 20 - (v - lo) / span * (height - 40):.1f}" for s, v in zip(steps, values))
    return (
        f'<svg width="{width}" height="{height}" style="background:#fafafa"><polyline fill="none" stroke="#d9822b" stroke-width="2" points="{xy}"/>'
        f'<text x="4" y="14" font-size="11">{hi:.2f}</text><text x="4" y="{height - 22}" font-size="11">{lo:.2f}</text>'
        f'<text x="40" y="{height - 4}" font-size="11">{steps[0]:,} steps</text><text x="{width - 110}" y="{height - 4}" font-size="11">{steps[-1]:,} steps</text></svg>'
    )


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


def _report_html(report: dict) -> str:
    ev = report["evaluation"]
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in ev.items())
    links = "".join(f'<li><a href="{html.escape(f)}">{html.escape(f)}</a></li>' for f in report["files"])
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>vidmimic report</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}} video{{max-width:48%}} td{{padding:2px 10px}}</style></head><body>
<h1>vidmimic: {html.escape(Path(report['video']).name)}</h1>
<h2>Video and estimate</h2><video src="estimate/overlay.webm" controls loop></video> <video src="estimate/side_view.webm" controls loop></video>
<h2>Simulated character</h2><p>Orange: the physically simulated character; light blue: the reference.
{_replay_sentence(report['replay'])}</p><video src="replay.webm" controls loop></video>
<h2>Controller</h2><p>{html.escape(_controller_sentence(report.get('controller')))}</p>
<h2>Training</h2><p>Mean episode return per PPO iteration</p>{_svg_curve(report['training_curve'], 'episode_return')}
<h2>Evaluation</h2><table>{rows}</table>
<h2>Downloads</h2><ul>{links}</ul></body></html>
"""
