"""Saving is atomic and tidy; old versions are upgraded through the migration table."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from bpviz.scene import SceneError, load_scene, parse_scene, save_scene_dict
from bpviz.scene import files as scene_files
from bpviz.scene import migrate as scene_migrate
from tests.scene.helpers import mlp_scene, scalar_scene, write


def _boom(*args: Any, **kwargs: Any) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("step", ["replace", "fsync", "write"])
def test_failed_save_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    path = write(tmp_path / "scene.json", scalar_scene())
    before = path.read_bytes()
    scene = load_scene(path)
    scene.train(2)
    monkeypatch.setattr(scene_files.os, "fdopen" if step == "write" else step, _boom)
    with pytest.raises(SceneError, match=r"^cannot write \S*scene\.json: No space left on device$"):
        scene.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.json"]


def test_failed_dict_save_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "scene.json", scalar_scene())
    before = path.read_bytes()
    monkeypatch.setattr(scene_files.os, "replace", _boom)
    with pytest.raises(SceneError, match=r"^cannot write \S*scene\.json: No space left"):
        save_scene_dict(mlp_scene(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scene.json"]


def test_interrupted_save_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(scene_files.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_scene_dict(scalar_scene(), tmp_path / "new.json")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_a_scene_error(tmp_path: Path) -> None:
    with pytest.raises(SceneError, match=r"^cannot write \S*missing/x\.json: no folder"):
        parse_scene(scalar_scene()).save(tmp_path / "missing" / "x.json")
    with pytest.raises(SceneError, match="no file to save to"):
        parse_scene(scalar_scene()).save()


def test_save_keeps_permissions_and_follows_symlinks(tmp_path: Path) -> None:
    real = write(tmp_path / "real.json", scalar_scene())
    os.chmod(real, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    scene = load_scene(link)
    scene.train(1)
    scene.save()
    assert link.is_symlink() and "state" in json.loads(real.read_text())
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_saved_text_is_readable_json(tmp_path: Path) -> None:
    scene = parse_scene(mlp_scene())
    scene.train(2)
    path = scene.save(tmp_path / "s.json")
    text = path.read_text()
    assert text.endswith("}\n") and '"pos": [600.0, 100.0]' in text
    assert '"b": [' in text and "NaN" not in text
    assert json.loads(text) == scene.to_dict()


def test_save_scene_dict_writes_drafts_and_numpy_values(tmp_path: Path) -> None:
    import numpy as np

    draft = scalar_scene()
    del draft["nodes"][4]["inputs"]["b"]  # unwired: the editor may save it anyway
    draft["nodes"][0]["attrs"]["value"] = np.float64(1.5)
    draft["nodes"][0]["pos"] = np.array([1.0, 2.0])
    save_scene_dict(draft, tmp_path / "draft.json")
    saved = json.loads((tmp_path / "draft.json").read_text())
    assert saved["nodes"][0]["pos"] == [1.0, 2.0] and saved["nodes"][0]["attrs"]["value"] == 1.5
    with pytest.raises(SceneError, match="missing input 'b'"):
        load_scene(tmp_path / "draft.json")
    assert load_scene(tmp_path / "draft.json", runnable=False).graph.output == "L"


def test_save_scene_dict_rebases_relative_data_paths(tmp_path: Path) -> None:
    scene = mlp_scene()
    scene["data"] = {"kind": "csv", "path": "data/points.csv", "target": "y"}
    (tmp_path / "out").mkdir()
    save_scene_dict(scene, tmp_path / "out" / "s.json", base_dir=tmp_path)
    saved = json.loads((tmp_path / "out" / "s.json").read_text())
    assert saved["data"]["path"] == "../data/points.csv"
    assert scene["data"]["path"] == "data/points.csv"  # the caller's dict is untouched


# ---- versions and migrations -------------------------------------------------------------
def _version0(d: dict[str, Any]) -> dict[str, Any]:
    """A pretend old format: nodes had "type" instead of "op" and no output key."""
    for n in d["nodes"]:
        n["op"] = n.pop("type")
    d["output"] = d["nodes"][-1]["id"] if d["nodes"] else None
    return d


def test_old_version_is_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(scene_migrate.MIGRATIONS, 0, _version0)
    old = scalar_scene()
    old["version"] = 0
    del old["output"]
    for n in old["nodes"]:
        n["type"] = n.pop("op")
    path = write(tmp_path / "old.json", old)
    scene = load_scene(path)
    assert scene.to_dict()["version"] == 1 and scene.graph.output == "L"
    assert float(scene.forward()) == pytest.approx(0.25)
    assert json.loads(path.read_text())["version"] == 0  # the file itself is not rewritten
    assert scene_migrate.oldest_readable() == 0


def test_failing_migration_names_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(scene_migrate.MIGRATIONS, 0, _version0)
    broken = {"format": "bpviz-scene", "version": 0, "nodes": [{"id": "a"}]}
    with pytest.raises(SceneError, match=r"version: cannot upgrade from version 0: KeyError"):
        parse_scene(broken)


def test_newer_version_is_refused_before_anything_else() -> None:
    future = {"format": "bpviz-scene", "version": 2, "graph": "a new layout"}
    with pytest.raises(SceneError) as info:
        parse_scene(future, source="f.json")
    assert str(info.value) == (
        "f.json: version: file is version 2 but this bpviz reads up to 1 — update bpviz"
    )
