"""Files that are either complete or absent: atomic writes, and the temp files of killed writers.

A writer puts the bytes into a temp file next to the target, named
``.<target>.<host>.<pid>.<random>.<suffix>``, fsyncs it and renames it over the
target (``os.replace``). A process killed in between leaves its temp file
behind; the next write to the same target removes those whose writer (a
process of this host) no longer runs, so they never accumulate. A temp file of
a live writer, or of another host (a shared disk), is left alone.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path


def _host() -> str:
    return "".join(c if c.isalnum() or c == "-" else "_" for c in socket.gethostname()) or "host"


def temp_path(target: Path, suffix: str = "tmp") -> Path:
    """A fresh temp file name next to ``target``, recording this host and process."""
    return target.with_name(f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.{suffix}")


def _writer_is_gone(host: str, pid: str) -> bool:
    if host != _host() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def remove_stale_temp_files(target: Path, suffix: str = "tmp") -> list[Path]:
    """Remove the temp files of ``target`` left by writers of this host that no longer run; returns them."""
    target = Path(target)
    removed = []
    try:
        candidates = list(target.parent.glob(f".{target.name}.*.{suffix}"))
    except OSError:
        return removed
    for path in candidates:
        parts = path.name[len(target.name) + 2:-len(suffix) - 1].split(".")
        if len(parts) == 3 and _writer_is_gone(parts[0], parts[1]):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the OS allows opening a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder,
    flush + fsync, ``os.replace``). On any error the temp file is removed and
    an existing ``path`` is left untouched; stale temp files of ``path`` go."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path
