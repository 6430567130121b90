"""3D accuracy on real footage: 4 calibrated views give pseudo-ground truth, each view is estimated alone.

    python benchmarks/real_harness.py [--data ../shared/data/multiview/pose2sim_single] [--frames N]

Every registered estimator is scored (see ``lifter_research/real_harness.py``); prints one JSON object.
"""

import sys

from lifter_research.real_harness import main

if __name__ == "__main__":
    sys.exit(main())
