"""Import a GLB with Blender's own glTF importer and print what Blender built, as one JSON line.

Not part of the test suite (Blender is not installed there); it checks by hand that an export
opens in Blender as an armature with a skinned mesh and an action. Blender as a Python module
comes from PyPI, in a separate environment (``bpy`` 4.2 needs Python 3.11)::

    python3.11 -m venv /tmp/bpy && /tmp/bpy/bin/pip install bpy==4.2.0
    /tmp/bpy/bin/python tests/gltf/blender_import.py export/sim.glb --fps 30

``--fps`` sets the scene's frame rate before the import, as a user would in Blender's Output
properties: glTF stores key times in seconds, so at the motion's own rate every key lands on a
whole frame.
"""

from __future__ import annotations

import argparse
import json

import bpy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("glb")
    parser.add_argument("--fps", type=int, default=None, help="scene frame rate to set before importing")
    args = parser.parse_args()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    if args.fps:
        scene.render.fps, scene.render.fps_base = args.fps, 1.0
    bpy.ops.import_scene.gltf(filepath=args.glb)
    out: dict = {"blender": bpy.app.version_string, "scene_fps": scene.render.fps / scene.render.fps_base, "armatures": [], "meshes": []}
    for obj in bpy.data.objects:
        if obj.type == "ARMATURE":
            action = obj.animation_data.action if obj.animation_data else None
            out["armatures"].append({"name": obj.name, "bones": [b.name for b in obj.data.bones],
                                     "action": action.name if action else None,
                                     "frame_range": [round(v, 3) for v in action.frame_range] if action else None,
                                     "fcurves": len(action.fcurves) if action else 0})
        elif obj.type == "MESH" and obj.vertex_groups:  # the importer's bone display shape has none
            out["meshes"].append({"name": obj.name, "vertices": len(obj.data.vertices), "vertex_groups": len(obj.vertex_groups),
                                  "armature_modifier": [m.object.name for m in obj.modifiers if m.type == "ARMATURE" and m.object]})
    if out["armatures"]:  # a bone that moves between two frames: the action drives the armature
        armature = next(o for o in bpy.data.objects if o.type == "ARMATURE")
        bone = armature.pose.bones[-1]
        heads = []
        for frame in (int(scene.frame_start), int(scene.frame_start) + 10):
            scene.frame_set(frame)
            heads.append([round(v, 4) for v in armature.matrix_world @ bone.head])
        out["moving_bone"] = {"name": bone.name, "heads": heads}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
