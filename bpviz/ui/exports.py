"""Pictures for slides: the canvas as PNG or SVG, one pass as numbered PNG frames or an
animated GIF, any widget (the loss plot) on the clipboard.

The scene is rendered, not the view, so an export shows every item at a chosen resolution on a
plain background, without the view's grid, scroll position or zoom. Frames are grabbed from
the view instead, because they should look exactly like what the person watches.

The background is the current theme's canvas colour: node text, wires and gradient colours
are painted for that theme, so a dark-theme picture on white would lose its muted labels and
light gradient colours. Pass `background` to choose another.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from PIL import Image
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QWidget

from bpviz.engine.files import check_writable, write_atomic
from bpviz.ui.theme import current_theme

MARGIN = 24.0
FRAME_PATTERN = "frame_{:03d}.png"
_HINTS = (
    QPainter.RenderHint.Antialiasing
    | QPainter.RenderHint.TextAntialiasing
    | QPainter.RenderHint.SmoothPixmapTransform
)


def theme_background(chosen: QColor | None = None) -> QColor:
    """`chosen`, or the canvas colour of the theme in use: what the items were painted for."""
    return QColor(chosen) if chosen is not None else QColor(current_theme().canvas)


def scene_source_rect(scene: QGraphicsScene, margin: float = MARGIN) -> QRectF:
    """The items' bounding rect plus a margin (a small blank rect for an empty scene)."""
    rect = scene.itemsBoundingRect()
    if rect.isEmpty():
        rect = QRectF(0.0, 0.0, 200.0, 100.0)
    return rect.adjusted(-margin, -margin, margin, margin)


@contextmanager
def uncached(scene: QGraphicsScene) -> Iterator[None]:
    """Turn item caches off while rendering: a cached item paints a screen-resolution
    pixmap, which would be blurry at scale 2 and a raster <image> inside an SVG. Every item
    shows the latest pass first (a canvas hands it to items only as they come into view)."""
    overlays = getattr(scene, "overlays", None)
    if overlays is not None:
        overlays.bring_all(scene)
    no_cache = QGraphicsItem.CacheMode.NoCache
    cached = [(item, item.cacheMode()) for item in scene.items() if item.cacheMode() != no_cache]
    for item, _ in cached:
        item.setCacheMode(no_cache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


def _target_size(source: QRectF, width: int | None, scale: float) -> QSize:
    if width is not None:
        if width < 1:
            raise ValueError(f"width must be at least 1 pixel, got {width}")
        return QSize(int(width), max(1, round(width * source.height() / source.width())))
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))


def render_scene(
    scene: QGraphicsScene,
    width: int | None = None,
    scale: float = 2.0,
    margin: float = MARGIN,
    background: QColor | None = None,
) -> QImage:
    """The whole scene as an image `width` pixels wide (height keeps the aspect), or at
    `scale` pixels per scene unit when no width is given."""
    source = scene_source_rect(scene, margin)
    size = _target_size(source, width, scale)
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(theme_background(background))
    painter = QPainter(image)
    try:
        painter.setRenderHints(_HINTS)
        with uncached(scene):
            scene.render(
                painter, QRectF(image.rect()), source, Qt.AspectRatioMode.IgnoreAspectRatio
            )
    finally:
        painter.end()
    return image


def png_bytes(image: QImage | QPixmap) -> bytes:
    """The image encoded as PNG in memory, for the atomic writer (Qt would write in place)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("could not encode the image as PNG")
    buffer.close()
    return bytes(data.data())


def write_png(image: QImage | QPixmap, path: str | Path) -> Path:
    """Write `image` as a PNG through the atomic writer (FileProblem names path and reason)."""
    check_writable(path)
    return write_atomic(path, png_bytes(image))


def export_png(
    scene: QGraphicsScene,
    path: str | Path,
    width: int | None = None,
    scale: float = 2.0,
    margin: float = MARGIN,
    background: QColor | None = None,
) -> Path:
    """Write the scene as a PNG (see `render_scene` for the size); OSError if it cannot."""
    check_writable(path)
    return write_png(render_scene(scene, width, scale, margin, background), path)


def export_svg(
    scene: QGraphicsScene,
    path: str | Path,
    margin: float = MARGIN,
    background: QColor | None = None,
    title: str = "bpviz graph",
) -> Path:
    """Write the scene as an SVG, one SVG unit per scene unit."""
    path = Path(path)
    check_writable(path)
    source = scene_source_rect(scene, margin)
    size = QSize(max(1, round(source.width())), max(1, round(source.height())))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setResolution(96)  # CSS pixels: the mm width the file states maps back to `size`
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription("Exported from bpviz")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write SVG to {path}")
    try:
        painter.setRenderHints(_HINTS)
        painter.fillRect(
            QRectF(0, 0, size.width(), size.height()), theme_background(background)
        )
        target = QRectF(0, 0, size.width(), size.height())
        with uncached(scene):
            scene.render(painter, target, source, Qt.AspectRatioMode.IgnoreAspectRatio)
    finally:
        painter.end()
    buffer.close()
    if data.isEmpty():
        raise OSError(f"could not write SVG to {path}")
    return write_atomic(path, bytes(data.data()))


# ---- one pass as frames ---------------------------------------------------------------------
def one_pass(step: Callable[[], object | None], done: Callable[[], bool]) -> Callable[[], bool]:
    """An `advance` for `record_pass_frames`: calls `step()` once per frame and stops after
    the step that makes `done()` true, or when `step()` returns None (nothing to do, error).

    For the window: ``one_pass(controller.next_step,
    lambda: controller.phase == Phase.BACKWARD_DONE)`` walks one forward and one backward pass.
    """
    finished = False

    def advance() -> bool:
        nonlocal finished
        if finished or step() is None:
            return False
        finished = done()
        return True

    return advance


def fit_image(image: QImage, size: tuple[int, int], background: QColor | None = None) -> QImage:
    """`image` scaled to fit `size` (w, h), keeping its aspect, centred on the background."""
    w, h = size
    if image.width() == w and image.height() == h:
        return image
    scaled = image.scaled(
        w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    out = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(theme_background(background))
    painter = QPainter(out)
    try:
        painter.drawImage((w - scaled.width()) // 2, (h - scaled.height()) // 2, scaled)
    finally:
        painter.end()
    return out


def record_pass_frames(
    advance: Callable[[], bool],
    grab: Callable[[], QImage | QPixmap],
    directory: str | Path,
    size: tuple[int, int] | None = None,
    settle: Callable[[], None] | None = None,
    max_frames: int = 10_000,
) -> list[Path]:
    """Call `advance()` until it returns False, saving `grab()` after each successful call as
    frame_000.png, frame_001.png … in `directory` (created if needed). Every frame is `size`
    (w, h) pixels, default the first grab's size. `settle()` runs before each grab (default:
    process pending events so the canvas has repainted)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    settle = settle or QCoreApplication.processEvents
    frames: list[Path] = []
    while len(frames) < max_frames and advance():
        settle()
        grabbed = grab()
        image = grabbed.toImage() if isinstance(grabbed, QPixmap) else grabbed
        if size is None:
            size = (image.width(), image.height())
        path = directory / FRAME_PATTERN.format(len(frames))
        write_png(fit_image(image, size), path)
        frames.append(path)
    return frames


def write_gif(
    frames: Sequence[str | Path], path: str | Path, frame_ms: int = 600, hold_ms: int = 2500
) -> Path:
    """Join PNG frames into a looping GIF; the last frame (the finished pass) is held longer
    so a viewer can read it before the loop starts again."""
    if not frames:
        raise ValueError("no frames to write")
    images = _shared_palette([Image.open(f).convert("RGB") for f in frames])
    durations = [frame_ms] * (len(images) - 1) + [hold_ms]
    check_writable(path)
    out = io.BytesIO()
    images[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=0,
        optimize=True,
    )
    return write_atomic(path, out.getvalue())


def _shared_palette(images: list[Image.Image]) -> list[Image.Image]:
    """All frames in one 256-colour palette taken from every frame: consecutive frames then
    differ only where the pass moved on, which GIF stores compactly (about 10x smaller than a
    palette per frame), and flat UI colours need no dithering."""
    w, h = images[0].size
    small = (max(1, w // 4), max(1, h // 4))
    sample = Image.new("RGB", (small[0], small[1] * len(images)))
    for i, im in enumerate(images):
        sample.paste(im.resize(small, Image.Resampling.NEAREST), (0, i * small[1]))
    palette = sample.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    return [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]


def clean_frames(directory: str | Path) -> None:
    """Delete an earlier recording's frames so a new one does not mix with them."""
    for old in _frame_files(Path(directory)):
        old.unlink()


def _frame_files(directory: Path) -> Iterable[Path]:
    return sorted(directory.glob("frame_[0-9][0-9][0-9]*.png"))


# ---- clipboard ------------------------------------------------------------------------------
def copy_image_to_clipboard(widget: QWidget) -> QImage:
    """Put a picture of `widget` (e.g. the loss plot) on the clipboard; returns it."""
    image = widget.grab().toImage()
    QGuiApplication.clipboard().setImage(image)
    return image
