"""A built and installed bpviz finds its resources (icon, style sheets, desktop entry) and
example scenes, which live outside the package folder in a checkout."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import bpviz
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
from bpviz.examples import examples_dir
from bpviz.ui.assets import app_icon, resources_dir
from bpviz.ui.theme import DARK, LIGHT, style_sheet
site = sys.argv[1]
assert bpviz.__file__.startswith(site), bpviz.__file__
assert str(resources_dir()).startswith(site), resources_dir()
assert str(examples_dir()).startswith(site), examples_dir()
sizes = sorted(s.width() for s in app_icon().availableSizes())
print(sizes)
print("QToolTip" in style_sheet(LIGHT), "QToolTip" in style_sheet(DARK))
print((resources_dir() / "bpviz.desktop").is_file(), len(list(examples_dir().glob("*.json"))))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bpviz built into a wheel from a copy of the checkout and installed into a folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("bpviz", "scenes", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", str(src), "-w", str(tmp / "dist")],
        check=True,
        cwd=tmp,
    )
    wheel = next((tmp / "dist").glob("bpviz-*.whl"))
    site = tmp / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    return site


def test_installed_package_finds_its_resources(installed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(installed)],
        cwd=tmp_path,  # not the checkout: its folders must not be found instead
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    examples = len(list((ROOT / "scenes").glob("*.json")))  # every one of them installed
    assert lines == ["[16, 24, 32, 48, 64, 128, 256]", "True True", f"True {examples}"]


def test_desktop_entry() -> None:
    """The keys a freedesktop launcher needs, pointing at the icon and command we ship."""
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ROOT / "resources" / "bpviz.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "bpviz"
    assert section["Exec"] == "bpviz %f"
    assert section["Icon"] == "bpviz"
    assert section["Terminal"] == "false"
    assert section["Categories"].split(";")[:2] == ["Education", "Science"]
    assert (ROOT / "resources" / "icons" / "bpviz-48.png").is_file()


def test_icon_pngs_are_the_svg_rendered(qapp) -> None:  # noqa: ANN001
    """Each PNG has its size and matches a fresh rendering of the SVG (re-run
    resources/render_icons.py after editing the SVG)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(ROOT / "resources" / "bpviz.svg"))
    assert renderer.isValid()
    for size in (16, 24, 32, 48, 64, 128, 256):
        png = QImage(str(ROOT / "resources" / "icons" / f"bpviz-{size}.png"))
        assert (png.width(), png.height()) == (size, size)
        fresh = QImage(size, size, QImage.Format.Format_ARGB32)
        fresh.fill(Qt.GlobalColor.transparent)
        painter = QPainter(fresh)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        assert png.convertToFormat(QImage.Format.Format_ARGB32) == fresh, size
