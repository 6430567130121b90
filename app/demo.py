"""``vidmimic demo``: the most complete path that exists today, on data shipped with the project.

DeepMimic's walk clip (inside the pybullet wheel) -> SMPL (AMASS npz) -> back onto the
character with cleanup -> DeepMimic txt, BVH, GLB -> a rendered preview with the reference
(blue) beside the retargeted motion (orange); then the project's walk policy
(``policies/humanoid3d_walk``, made by ``vidmimic train``) simulated in PyBullet and rendered with
the reference as a ghost, and evaluated. Figures go to ``summary.json``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pybullet_data

from app.progress import ProgressBar
from characters.character import humanoid
from control.render import RenderOptions, render_motions
from retargeting.amass_file import read_amass, write_amass
from retargeting.bvh_export import write_character_bvh, write_smpl_bvh
from retargeting.cleanup import CleanupOptions, contact_slide, detect_contacts
from retargeting.deepmimic_file import read_deepmimic, write_deepmimic
from retargeting.gltf_export import write_glb
from retargeting.roundtrip import roundtrip_errors
from retargeting.smpl_character import character_to_smpl, smpl_to_character

DEFAULT_CLIP = Path(pybullet_data.getDataPath()) / "data" / "motions" / "humanoid3d_walk.txt"
WALK_POLICY = Path(__file__).resolve().parents[1] / "policies" / "humanoid3d_walk" / "policy.zip"


def run_demo(out_dir: str | Path, clip: str | Path = DEFAULT_CLIP, seconds: float = 4.0) -> dict:
    """Run the demo into ``out_dir``; returns the summary that is also written to ``summary.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    character = humanoid()
    reference = read_deepmimic(clip, character)
    smpl = character_to_smpl(reference)
    write_amass(out / "motion_smpl.npz", smpl)
    retargeted = smpl_to_character(read_amass(out / "motion_smpl.npz"), character, CleanupOptions())
    retargeted.loop = reference.loop
    write_deepmimic(out / "motion.txt", retargeted)
    write_character_bvh(out / "motion.bvh", retargeted)
    write_smpl_bvh(out / "motion_smpl.bvh", smpl)
    write_glb(out / "motion.glb", retargeted)

    beside = replace(retargeted, root_pos=retargeted.root_pos + 1.0 * character.lateral)
    colours = [(reference, (0.25, 0.5, 0.9, 1.0)), (beside, (0.95, 0.55, 0.2, 1.0))]
    render_motions(colours, out / "preview.mp4", RenderOptions(yaw_deg=60.0, distance=3.5), seconds=seconds, progress=ProgressBar("render"))
    render_motions(colours, out / "preview.png", RenderOptions(yaw_deg=60.0, distance=3.5))

    contacts = detect_contacts(retargeted, CleanupOptions())
    pos, rots = retargeted.body_frames()
    feet = character.lowest_heights(pos, rots, character.contact_bodies)
    summary = {
        "clip": str(clip),
        "roundtrip": roundtrip_errors(reference),
        "retargeted": {
            "frames": retargeted.num_frames,
            "lowest_foot_m": float(feet.min()),
            "contact_fraction": [float(v) for v in contacts.mean(axis=0)],
            "median_contact_slide_cm": float(100 * np.median(contact_slide(retargeted, contacts))) if contacts.any() else None,
        },
        "files": sorted(p.name for p in out.iterdir() if not p.name.startswith(".")),
    }
    if WALK_POLICY.exists():
        from control.evaluate import evaluate, replay
        from retargeting.deepmimic_file import write_deepmimic as write_txt

        simulated, ghost, info = replay(WALK_POLICY, seconds=seconds, progress=ProgressBar("simulate"))
        write_txt(out / "sim_motion.txt", simulated)
        shown = [(simulated, (0.95, 0.55, 0.2, 1.0)), (ghost, (0.55, 0.75, 1.0, 0.4))]
        render_motions(shown, out / "replay.webm", RenderOptions(), seconds=simulated.duration, progress=ProgressBar("render"))
        summary["walk_policy"] = {"policy": str(WALK_POLICY), "replay": info, "evaluation": evaluate(WALK_POLICY, episodes=5, seconds=seconds)}
        summary["files"] = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
