"""Physics imitation: the environment, its reward, training, evaluation and rendering."""

import gymnasium

if "vidmimic/Imitate-v0" not in gymnasium.registry:
    gymnasium.register(id="vidmimic/Imitate-v0", entry_point="control.imitation_env:ImitationEnv")
if "vidmimic/Track-v0" not in gymnasium.registry:
    gymnasium.register(id="vidmimic/Track-v0", entry_point="control.tracker_env:TrackerEnv")
