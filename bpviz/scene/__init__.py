"""The scene file format: versioned JSON, checked with precise places, saved atomically.

See docs/scene-format.md for the format itself.
"""

from bpviz.scene.document import (
    Scene,
    load_scene,
    parse_scene,
    save_scene_dict,
    validate_scene_dict,
)
from bpviz.scene.errors import SceneError
from bpviz.scene.migrate import CURRENT_VERSION

__all__ = [
    "CURRENT_VERSION",
    "Scene",
    "SceneError",
    "load_scene",
    "parse_scene",
    "save_scene_dict",
    "validate_scene_dict",
]
