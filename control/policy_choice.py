"""Keep the better of a fine-tuned policy and the policy it was warm-started from.

A short, time-budgeted PPO fine-tune can end on a policy that falls more often than the one it
started from (the demo's 2-minute fine-tune of ``policies/sample_walk`` fell in 0 of 5 evaluation
episodes in one session and 4 of 5 in the next). ``vidmimic run --init-policy`` therefore tries
both on the job's own reference and keeps the one that falls less (then: the higher mean reward
per step; a tie keeps the fine-tune). The trial episodes use their own seed, so the evaluation
reported afterwards is not the one the choice was made on. Few trials pick wrongly: with 5 the
choice kept the warm start in 4 of 8 fine-tunes and fell more than the fine-tunes did
(``benchmarks/fine_tune_replays.py --choose``), so ``vidmimic run`` tries 20.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from characters.errors import atomic_output

MOTION_MEMBER = "vidmimic/motion.txt"
TRIAL_SEED_OFFSET = 7919
"""Added to the run's seed for the trial episodes (any value but 0 keeps them apart from the evaluation's)."""


def rebind_policy(policy: str | Path, motion_text: str, out: str | Path) -> None:
    """Write ``out``: ``policy`` (a vidmimic policy zip) with its reference motion replaced by
    ``motion_text`` (DeepMimic text): the same network and normalisation, imitating another clip."""
    with zipfile.ZipFile(policy) as source, atomic_output(Path(out)) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                if item.filename != MOTION_MEMBER:
                    target.writestr(item, source.read(item))
            target.writestr(MOTION_MEMBER, motion_text)


def _score(result: dict) -> tuple[int, float]:
    """Sort key of an evaluation: fewer falls first, then higher mean reward."""
    return (-result["falls"], result["mean_reward"])


def choose_policy(fine_tuned: str | Path, warm_start: str | Path, out: str | Path, episodes: int, seconds: float, seed: int) -> dict:
    """Try ``fine_tuned`` and ``warm_start`` (rebound to ``fine_tuned``'s reference motion) for
    ``episodes`` episodes of ``seconds`` s from the same random phases, write the better one to
    ``out`` and return what was tried: ``{"kept": "fine_tuned"|"warm_start", "fine_tuned": figures,
    "warm_start": figures, "episodes", "seconds", "seed"}`` (figures: falls, mean reward per step,
    mean pose error in degrees, mean episode seconds)."""
    from control.evaluate import evaluate
    from control.train import policy_motion_text

    out = Path(out)
    candidate = out.with_name(out.stem + ".warm_start.zip")
    rebind_policy(warm_start, policy_motion_text(fine_tuned), candidate)
    try:
        trials = {name: evaluate(path, episodes=episodes, seconds=seconds, seed=seed + TRIAL_SEED_OFFSET)
                  for name, path in (("fine_tuned", fine_tuned), ("warm_start", candidate))}
        kept = "warm_start" if _score(trials["warm_start"]) > _score(trials["fine_tuned"]) else "fine_tuned"
        with atomic_output(out) as tmp:
            shutil.copyfile(candidate if kept == "warm_start" else fine_tuned, tmp)
    finally:
        candidate.unlink(missing_ok=True)
    figures = ("falls", "mean_reward", "mean_pose_error_deg", "mean_episode_seconds")
    return {"kept": kept, **{name: {k: trials[name][k] for k in figures} for name in trials},
            "warm_start_policy": str(warm_start), "episodes": episodes, "seconds": seconds, "seed": seed + TRIAL_SEED_OFFSET}


def choice_sentence(choice: dict | None) -> str:
    """One line for the report on which policy was kept and why ('' without a warm start)."""
    if not choice or "warm_start" not in choice:
        return ""
    tuned, warm = choice["fine_tuned"], choice["warm_start"]
    n = choice["episodes"]
    trial = (f"In {n} trial episodes of {choice['seconds']:.0f} s the fine-tuned policy fell {tuned['falls']} times "
             f"(mean reward {tuned['mean_reward']:.3f} per step) and the warm-start policy {warm['falls']} "
             f"({warm['mean_reward']:.3f})")
    kept = "the fine-tuned policy" if choice["kept"] == "fine_tuned" else "the warm-start policy, which the fine-tune did not improve on"
    return f"{trial}: policy.zip is {kept}."
