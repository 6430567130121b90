"""Each option in one place: the CLI's training and job flags take their defaults and help from the
config dataclasses (no default written twice)."""

from dataclasses import dataclass, fields

from app.arguments import config_option, field_docs
from app.cli import build_parser
from app.run import RunOptions
from control.train_config import TRACKER_TRAIN_DEFAULTS, TrainConfig


def _subparser(parser, *names):
    for name in names:
        action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        parser = action.choices[name]
    return parser


def _options(parser) -> dict:
    return {a.dest: a for a in parser._actions}


@dataclass(frozen=True)
class _Example:
    rate: float = 2.5
    """Frames per second, 10 % of them dropped."""
    count: int = 3_000


def test_field_docs_and_config_option_read_the_dataclass():
    assert field_docs(_Example) == {"rate": "Frames per second, 10 % of them dropped."}
    import argparse

    parser = argparse.ArgumentParser()
    config_option(parser, "--rate", _Example(), "rate")
    config_option(parser, "--count", _Example(), "count", unset=True, note="unless given")
    assert parser.parse_args([]).rate == 2.5 and parser.parse_args([]).count is None
    assert parser.parse_args(["--rate", "4"]).rate == 4.0
    text = parser.format_help()  # a "%" in a docstring must not break argparse's formatting
    assert "10 % of them dropped (default 2.5)" in " ".join(text.split()) and "(default 3,000; unless given)" in " ".join(text.split())


def test_train_run_and_tracker_flags_default_to_their_dataclasses():
    parser = build_parser()
    cases = [
        (_subparser(parser, "train"), TrainConfig(), {"timesteps": "timesteps", "minutes": "minutes", "seed": "seed", "checkpoint_minutes": "checkpoint_minutes"},
         {"envs", "n_steps", "learning_rate", "log_std_init", "gamma"}),
        (_subparser(parser, "tracker", "train"), TRACKER_TRAIN_DEFAULTS,
         {"minutes": "minutes", "timesteps": "timesteps", "envs": "envs", "n_steps": "n_steps", "seed": "seed"}, set()),
        (_subparser(parser, "run"), RunOptions(), {"train_minutes": "train_minutes", "train_timesteps": "train_timesteps", "workers": "workers",
                                                   "seed": "seed", "swing_clearance": "swing_clearance_m"}, {"estimator"}),
    ]
    for sub, config, same, unset in cases:
        options = _options(sub)
        docs = field_docs(type(config))
        for dest, field in same.items():
            assert options[dest].default == getattr(config, field), (dest, options[dest].default)
            assert docs[field].rstrip(".").replace("``", "`") in options[dest].help.replace("%%", "%"), dest
        for dest in unset:  # filled in by the command (e.g. from a warm-start policy); the help still names the default
            value = getattr(config, dest)
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            assert options[dest].default is None and f"default {shown}" in options[dest].help, dest
    assert {f.name for f in fields(TrainConfig)} >= {"timesteps", "minutes", "envs", "n_steps"}
