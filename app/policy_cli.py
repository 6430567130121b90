"""``vidmimic policy upgrade``: convert a policy zip written by an older vidmimic to today's format."""

from __future__ import annotations

import argparse


def _upgrade(args: argparse.Namespace) -> int:
    from app.arguments import require_file
    from control.policy_file import upgrade

    require_file(args.policy)
    converted = upgrade(args.policy, args.output)
    target = args.output or args.policy
    if converted:
        print(f"wrote {target}: its normalisation is now vidmimic/normalization.npz (no pickle of vidmimic's left)")
    else:
        print(f"{args.policy} is already in today's format" + (f"; copied to {target}" if args.output else ""))
    return 0


def add_parser(sub) -> None:
    """Register ``policy`` and its subcommands on the main parser's subparsers."""
    top = sub.add_parser("policy", help="policy zip files: convert an older vidmimic's to today's format")
    commands = top.add_subparsers(dest="policy_command", required=True)
    p = commands.add_parser(
        "upgrade", help="convert a policy zip from an older vidmimic (pickled normalisation) to today's format",
        description=(
            "Policy zips written before 2026-12-04 keep their observation normalisation as a pickle "
            "(vidmimic/normalization.pkl); replay, evaluate and track no longer unpickle anything and refuse them. "
            "This command unpickles it, which runs code from the file like any pickle: upgrade only your own "
            "policies or ones you trust. It writes vidmimic/normalization.npz in its place (atomically)."
        ),
    )
    p.add_argument("policy", metavar="ZIP", help="the policy.zip (or checkpoint.zip, resume.zip) to convert")
    p.add_argument("-o", "--output", metavar="ZIP", help="write the converted zip here (default: replace ZIP)")
    p.set_defaults(func=_upgrade)
