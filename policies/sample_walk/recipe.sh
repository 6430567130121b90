#!/bin/bash
# How policies/sample_walk/policy.zip is made: a curriculum from the walk policy to the demo's
# gait cycle. Usage: bash policies/sample_walk/recipe.sh WORK_DIR [M1 M2 M3 M4 M4_MORE]
# (run from the repository root; WORK_DIR gets the demo's estimate, the blends and one run per stage.
# M1..M4: minutes of stages 1-4; M4_MORE (0: none) resumes stage 4 exactly from its checkpoint;
# M5: minutes of stage 5, the same cycle with episodes no longer ended when the root strays 1 m.)
set -euo pipefail
work=${1:?usage: recipe.sh WORK_DIR [M1 M2 M3 M4 M4_MORE M5]}
m1=${2:-8}; m2=${3:-10}; m3=${4:-12}; m4=${5:-30}; m4_more=${6:-25}; m5=${7:-50}
vm=(python -m app.cli)
walk=policies/humanoid3d_walk/policy.zip
mkdir -p "$work"
# 1. The demo's sample video and its estimate, looped with the cycle's phase aligned to the walk policy's clip,
#    made symmetric and given swing clearance as `vidmimic demo` does (app/demo.py).
python -c "from app.sample_video import write_sample_video; write_sample_video('$work/sample_walk.webm')"
"${vm[@]}" run "$work/sample_walk.webm" -o "$work/demo" --loop --symmetric --swing-clearance 0.10 --init-policy "$walk" --train-minutes 0.05 --workers 1
python -c "import zipfile; open('$work/walk.txt', 'w').write(zipfile.ZipFile('$walk').read('vidmimic/motion.txt').decode())"
# 2. Blends from DeepMimic's walk to the estimated cycle, each stage warm-started from the previous policy.
"${vm[@]}" blend "$work/walk.txt" "$work/demo/motion.txt" --alpha 0.33 -o "$work/blend_0.33.txt"
"${vm[@]}" blend "$work/walk.txt" "$work/demo/motion.txt" --alpha 0.67 -o "$work/blend_0.67.txt"
"${vm[@]}" blend "$work/walk.txt" "$work/demo/motion.txt" --alpha 1.0 -o "$work/blend_1.0.txt"
"${vm[@]}" train "$work/blend_0.33.txt" -o "$work/stage1" --init "$walk" --workers 2 --minutes "$m1" --timesteps 30000000 --seed 1
"${vm[@]}" train "$work/blend_0.67.txt" -o "$work/stage2" --init "$work/stage1/policy.zip" --workers 2 --minutes "$m2" --timesteps 30000000 --seed 2
"${vm[@]}" train "$work/blend_1.0.txt" -o "$work/stage3" --init "$work/stage2/policy.zip" --workers 2 --minutes "$m3" --timesteps 30000000 --seed 3
# 3. The estimated cycle itself (its own 1.2 s timing): the motion `vidmimic demo` imitates.
"${vm[@]}" train "$work/demo/motion.txt" -o "$work/stage4" --init "$work/stage3/policy.zip" --workers 2 --minutes "$m4" --timesteps 30000000 --seed 4
if [ "$m4_more" != 0 ]; then
  "${vm[@]}" train "$work/demo/motion.txt" -o "$work/stage4" --resume --workers 2 --minutes "$m4_more" --timesteps 30000000 --seed 4
fi
# 4. Long episodes: the character drifts ahead of the cycle's root (it walks faster), so with the 1 m limit
#    most episodes ended within 3 s and the policy never learnt to keep walking; stage 5 lets them run on.
"${vm[@]}" train "$work/demo/motion.txt" -o "$work/stage5" --init "$work/stage4/policy.zip" --max-root-deviation 0 --workers 2 --minutes "$m5" --timesteps 30000000 --seed 5
"${vm[@]}" evaluate "$work/stage5/policy.zip" --episodes 20 --seconds 10 --json
