"""Atomic file output: one place that writes a file so a failure never leaves half of it.

Every writer in hearsep (audio, JSON, Markdown, PNG, presets, models) goes through
:func:`atomic_write`: the content is written to a hidden temporary file in the destination
folder and renamed over the destination, so readers see the old file or the whole new one.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from hearsep.errors import OutputError


def _reason(exc: OSError) -> str:
    """A user-facing reason: 'permission denied', 'disk full', ... never 'System error.'"""
    names = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             errno.ENOSPC: "disk full (no space left on device)", errno.EDQUOT: "disk quota exceeded",
             errno.EROFS: "read-only file system", errno.ENOENT: "folder does not exist",
             errno.EISDIR: "is a directory", errno.ENOTDIR: "a parent is not a directory"}
    return names.get(exc.errno, exc.strerror or str(exc))


def check_output_path(path: str | Path) -> Path:
    """Check before any work that ``path`` can be written: its folder exists and is writable,
    and it is not a directory. Raises :class:`OutputError` naming the problem."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: permission denied for folder {folder}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"cannot write {path}: permission denied")
    return path


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed over ``path``.

    ``suffix`` ends the temporary name, for writers that insist on one (Keras saves only to
    ``*.keras``).

    The temporary file is removed on every exit path (exceptions, KeyboardInterrupt, SystemExit
    raised by a signal handler). The result honours the umask, or keeps the mode of the file it
    replaces. ``OSError`` becomes :class:`OutputError` with the reason in words.
    """
    path = check_output_path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in {folder}: {_reason(exc)}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        if path.exists():
            mode = path.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        yield tmp_path
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {_reason(exc)}") from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result over ``path`` (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def to_jsonable(obj):
    """Plain JSON types from numpy scalars/arrays, tuples, Paths and dataclass-like dicts.

    NaN and +-Inf (a value that could not be computed, or a ratio with a zero denominator)
    become ``null``: JSON has no non-finite numbers (RFC 8259, section 6).
    """
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def json_text(obj, indent: int = 2) -> str:
    """``obj`` as JSON text via :func:`to_jsonable` (strict: no NaN/Infinity tokens), no trailing newline."""
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: str | Path, obj, indent: int = 2) -> Path:
    """Write ``obj`` (numpy values allowed) as JSON to ``path`` atomically."""
    return write_text(path, json_text(obj, indent) + "\n")
