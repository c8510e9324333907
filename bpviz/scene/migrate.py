"""Scene file versions: refuse files from a newer bpviz, upgrade older ones step by step.

A format change bumps `CURRENT_VERSION` and registers one function that turns a version-N dict
into a version-(N+1) dict. Loading applies the chain, so checks and the loader only ever see
the newest structure and old files keep opening forever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bpviz.engine.attrs import copy_value
from bpviz.scene.codec import CURRENT_VERSION, FORMAT
from bpviz.scene.errors import SceneError, describe

__all__ = ["CURRENT_VERSION", "FORMAT", "MIGRATIONS", "check_header", "migrate"]

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}
"""from_version -> function(version-N dict) -> version-(N+1) dict. Empty while only 1 exists.

A migration may raise SceneError naming a place; the version field is set by `migrate`."""


def oldest_readable() -> int:
    """The oldest version with an unbroken chain of migrations up to the current one."""
    version = CURRENT_VERSION
    while version - 1 in MIGRATIONS:
        version -= 1
    return version


def check_header(raw: Any) -> int:
    """The file's version, after checking it is a bpviz scene this bpviz can read."""
    if not isinstance(raw, dict):
        raise SceneError(f"expected a JSON object {{...}} at the top level, got {describe(raw)}")
    if "format" not in raw:
        raise SceneError(f'missing; a bpviz scene starts with "format": "{FORMAT}"', "format")
    if raw["format"] != FORMAT:
        got = describe(raw["format"])
        raise SceneError(f'expected "{FORMAT}", got {got}: not a bpviz scene', "format")
    version = raw.get("version")
    if "version" not in raw:
        raise SceneError(f"missing; this bpviz writes version {CURRENT_VERSION}", "version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise SceneError(f"expected an integer, got {describe(version)}", "version")
    if version > CURRENT_VERSION:
        raise SceneError(
            f"file is version {version} but this bpviz reads up to {CURRENT_VERSION}"
            " — update bpviz",
            "version",
        )
    oldest = oldest_readable()
    if version < oldest:
        raise SceneError(
            f"file is version {version}; this bpviz reads versions {oldest} to {CURRENT_VERSION}",
            "version",
        )
    return version


def migrate(raw: Any) -> dict[str, Any]:
    """`raw` upgraded to `CURRENT_VERSION`: a current file as it is, an older one as an
    upgraded copy (the caller's dict is never changed)."""
    version = check_header(raw)
    if version == CURRENT_VERSION:
        return raw  # nothing to upgrade; every later stage copies what it keeps
    scene = copy_value(raw)
    while version < CURRENT_VERSION:
        step = MIGRATIONS[version]
        try:
            scene = step(scene)
        except SceneError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            raise SceneError(
                f"cannot upgrade from version {version}: {type(e).__name__}: {e}", "version"
            ) from e
        if not isinstance(scene, dict):
            raise SceneError(f"upgrading from version {version} did not give an object")
        version += 1
        scene["version"] = version
    return scene
