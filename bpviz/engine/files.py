"""Every file bpviz reads or writes goes through here.

Reading: only regular files (a FIFO would block forever, /dev/zero never ends, a directory is
a mistake), opened without blocking and checked before a byte is read, with a size cap.

Writing: a temporary file in the target's folder, flushed and fsynced, then `os.replace`d over
the target, so a crash or a full disk leaves the old file or the new one, never half of one.
A target that exists must be a regular file (through symlinks) that is not read-only: bpviz
never replaces a device, a FIFO or a folder, and never overrides a file someone protected.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bpviz.engine.errors import BpvizError, one_line, plural

PathArg = str | os.PathLike[str]

MAX_SCENE_BYTES = 256 * 1024 * 1024
"""Scene files larger than this are refused before reading (a 10^6-node scene is ~120 MB)."""

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class FileProblem(BpvizError):
    """A file that cannot be read or written; the message names the file and the reason."""

    def __init__(self, path: PathArg, verb: str, reason: str, errno: int | None = None) -> None:
        super().__init__(one_line(f"cannot {verb} {os.fspath(path)}: {reason}"))
        self.path = os.fspath(path)
        self.verb = verb
        self.reason = reason
        self.errno = errno  # the OSError's, when one was the cause


def kind_of(mode: int) -> str:
    """'a FIFO (named pipe)', 'a folder'... for a mode that is not a regular file's."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def reason_of(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


# ---- reading ---------------------------------------------------------------------------------
def open_regular(path: PathArg, max_bytes: int | None = None) -> IO[bytes]:
    """`path` opened for binary reading, or FileProblem if it is not a regular file or is
    larger than `max_bytes`. Opened with O_NONBLOCK so a FIFO cannot hang the open itself."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise FileProblem(path, "read", reason_of(e), e.errno) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(path, "read", f"{kind_of(info.st_mode)}, not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            size, limit = _size(info.st_size), _size(max_bytes)
            raise FileProblem(path, "read", f"{size}, over the {limit} limit for this file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: PathArg, max_bytes: int) -> bytes:
    """The whole of a regular file no larger than `max_bytes` (checked again while reading,
    in case the file grows)."""
    with open_regular(path, max_bytes) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise FileProblem(path, "read", reason_of(e)) from None
    if len(data) > max_bytes:
        raise FileProblem(path, "read", f"over the {_size(max_bytes)} limit")
    return data


def _size(n: int) -> str:
    """'1 byte', '300 bytes', '1.5 MiB'."""
    if n < 1024:
        return plural(n, "byte")
    size = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.4g} {unit}"


# ---- writing ---------------------------------------------------------------------------------
def check_writable(path: PathArg) -> Path:
    """The real target for `path` (symlinks followed), or FileProblem if bpviz would refuse
    to write it: an existing non-regular file, a read-only file, or a missing folder."""
    text = os.fspath(path)
    if not text:
        raise FileProblem("''", "write", "no file name given")
    if text.endswith(("/", os.sep)):
        raise FileProblem(path, "write", "that names a folder, not a file")
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise FileProblem(path, "write", reason_of(e)) from None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(path, "write", f"it is {kind_of(info.st_mode)}, not a regular file")
        if not info.st_mode & _WRITE_BITS or not os.access(target, os.W_OK):
            raise FileProblem(path, "write", "the file is read-only")
    folder = target.parent
    if not folder.is_dir():
        raise FileProblem(path, "write", f"no folder {folder}")
    return target


def _mode_for(info: os.stat_result | None) -> int:
    """Keep an existing file's permissions; a new file gets rw-r--r-- less the umask."""
    if info is not None:
        return stat.S_IMODE(info.st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_writer(path: PathArg, binary: bool = True) -> Iterator[IO[Any]]:
    """A file to write the new contents into; when the block ends without an exception it
    replaces `path` in one step. On any failure the old file is untouched, the temporary file
    is gone and FileProblem names the target and the reason."""
    target = check_writable(path)
    try:
        info: os.stat_result | None = os.stat(target)
    except OSError:
        info = None
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            f = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")
        except BaseException:
            os.close(fd)
            raise
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(info))
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise FileProblem(path, "write", reason_of(e)) from e
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _sync_folder(target.parent)


def write_atomic(path: PathArg, data: bytes | str) -> Path:
    """Replace `path` with `data` (text is written as UTF-8) in one step; see atomic_writer."""
    with atomic_writer(path, binary=isinstance(data, bytes)) as f:
        f.write(data)
    return Path(path)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable where the OS allows fsync on a directory."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
