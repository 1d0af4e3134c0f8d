"""Fetching a file from a list of mirrors, md5-checked and written atomically.

``download_file(filename, md5, folder, mirrors)`` tries ``mirror + filename`` for each
mirror in turn. The body is streamed into a temporary file in ``folder`` while
its md5 is computed; only when the md5 matches is the file fsynced and renamed
into place (``os.replace``), so ``folder/filename`` is either absent or complete
and correct, even if the process dies mid-download. A mirror that fails (network
error, HTTP error, wrong checksum) is recorded and the next one is tried; when
all fail, ``DownloadError`` lists every attempt.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ..files import fsync_dir, remove_stale_temp_files, temp_path

CHUNK = 1 << 20


class DownloadError(OSError):
    """Every mirror failed; ``attempts`` is a list of ``(url, reason)``."""

    def __init__(self, message: str, attempts: list[tuple[str, str]]):
        super().__init__(message)
        self.attempts = attempts


def _fetch(url: str, md5: str, folder: str, filename: str, timeout: float, progress: bool,
           deadline: float | None = None, max_bytes: int | None = None) -> str:
    """Stream ``url`` into a temp file in ``folder``; rename it to ``filename`` if its md5 is right.

    Returns the final path. Raises on network errors, checksum mismatch, a
    body longer than ``max_bytes`` and a download lasting more than
    ``deadline`` seconds; the temp file never survives a failure.
    """
    started = time.monotonic()
    target = Path(folder) / filename
    remove_stale_temp_files(target, "part")
    tmp = temp_path(target, "part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        h = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            if total and not total.isdigit():
                total = None
            if max_bytes is not None and total and int(total) > max_bytes:
                raise OSError(f"the server announces {total} bytes, more than the {max_bytes} this file can have")
            with tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                      desc=filename, disable=not progress, leave=False) as bar:
                received = 0
                while block := response.read1(CHUNK if max_bytes is None else min(CHUNK, max_bytes + 1 - received)):
                    if max_bytes is not None and received + len(block) > max_bytes:
                        raise OSError(f"the server sent more than the {max_bytes} bytes this file can have")
                    if deadline is not None and time.monotonic() - started > deadline:
                        raise TimeoutError(f"the download took more than its deadline of {deadline:g} s "
                                           f"({received} bytes received)")
                    out.write(block)
                    h.update(block)
                    received += len(block)
                    bar.update(len(block))
            if total and received != int(total):
                raise OSError(f"incomplete download: the connection closed after {received} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # created 0600 while incomplete
        if h.hexdigest() != md5:
            raise ValueError(f"md5 mismatch: expected {md5}, got {h.hexdigest()}")
        final = os.path.join(folder, filename)
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(Path(folder))
    return final


def download_file(filename: str, md5: str, folder, mirrors, timeout: float = 30.0, progress: bool = True,
                  deadline: float | None = 600.0, max_bytes: int | None = None) -> str:
    """Download ``filename`` from the first mirror that serves it with md5 ``md5``.

    ``mirrors`` are base URLs (the file's URL is ``mirror/filename``). A mirror
    fails after ``timeout`` seconds without data, after ``deadline`` seconds in
    all, or once it sends more than ``max_bytes``.
    The file lands atomically at ``folder/filename`` (created if needed); returns
    that path. Raises ``DownloadError`` when every mirror failed.
    """
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    attempts = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            return _fetch(url, md5, folder, filename, timeout, progress, deadline, max_bytes)
        except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, HTTPError, timeouts: OSError
            attempts.append((url, f"{type(e).__name__}: {e}"))
    tried = "\n".join(f"  {url}: {reason}" for url, reason in attempts) or "  (no mirrors given)"
    raise DownloadError(f"could not download {filename} (md5 {md5}); tried:\n{tried}", attempts)
