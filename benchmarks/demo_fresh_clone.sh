#!/usr/bin/env bash
# `make demo` from a fresh clone, set-up included, timed: the application issue's 10-minute budget.
#
#     bash benchmarks/demo_fresh_clone.sh [REPO (default: this checkout's origin or folder)]
#
# Clones REPO's HEAD into a temporary folder, runs `make demo` there (which creates .venv,
# installs vidmimic and runs the demo) and prints one JSON object with the wall-clock seconds of
# the whole thing and of the demo alone, the demo's evaluation and how its replay went.
# With KEEP_REPLAY=PATH the demo's replay.webm is copied there to be looked at.
set -euo pipefail
repo="${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$(date +%s.%N)
git clone -q "$repo" "$work/vidmimic"
cd "$work/vidmimic"
make demo > "$work/demo.log" 2>&1 || { tail -20 "$work/demo.log" >&2; exit 1; }
end=$(date +%s.%N)
if [ -n "${KEEP_REPLAY:-}" ]; then cp demo_out/replay.webm "$KEEP_REPLAY"; fi
python3 - "$start" "$end" demo_out/summary.json <<'EOF'
import json, sys
start, end, summary = float(sys.argv[1]), float(sys.argv[2]), json.load(open(sys.argv[3]))
print(json.dumps({"fresh_clone_to_done_s": round(end - start, 1), "demo_s": summary["wall_clock_s"],
                  "evaluation": summary["evaluation"], "replay": summary["replay_outcome"], "warm_start": summary["warm_start"]}, indent=1))
EOF
