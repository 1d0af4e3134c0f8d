"""Blocks of work on several Python threads: the scheduler of the blocked kernels (``blocked_conv``).

A kernel cuts its arrays into blocks small enough to stay in a core's cache and calls
:func:`run_blocks`; under ``glassnet.threads(n)`` with n ≥ 2 the blocks run on n threads
(NumPy's ufuncs, copies and BLAS products release the GIL), outside one on the calling
thread alone. Each block writes its own part of the output, so the results do not depend
on the number of threads.

(Batch norm run the same way, in channel groups of 256 KiB or 2 MiB, measured slower than the
whole-array NumPy passes on one thread and no faster on two, contended: its arrays, 3.2 MB at
most in resnet_small, already stay in this machine's last-level cache.)
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import threading

from .. import backend

_pool: list = [None, 0, 0]  # a ThreadPoolExecutor, its size and the process it belongs to, made on first use
_blas: list = []  # threadpoolctl's controllers of the BLAS libraries, found on first use


def workers() -> int:
    """Threads for the blocks: those of the enclosing ``glassnet.threads()`` block (1 outside one)."""
    threads = backend._active_threads[-1] if backend._active_threads else None
    return max(1, int(threads or 1))


@contextlib.contextmanager
def _blas_single_thread():
    """The BLAS on one thread while the blocks run on several Python threads, then as before."""
    if not _blas:
        from threadpoolctl import ThreadpoolController
        _blas.append(ThreadpoolController().select(user_api="blas"))
    with _blas[0].limit(limits=1):
        yield


def one_range_per_worker(size: int, work) -> None:
    """``work(start, count, state)`` over ``range(size)`` cut into one range per thread of the
    enclosing ``glassnet.threads()`` block (the whole range on the calling thread outside one),
    for work that calls no BLAS: the compiled kernels' channel groups and flat slices."""
    n = workers()
    run_blocks(size, -(-size // n), work, n, blas=False)


def run_blocks(h: int, rows: int, work, workers: int, starts=None, blas: bool = True) -> list:
    """Call ``work(i, r, state)`` for each block of ``r`` ≤ ``rows`` output rows starting at
    row ``i`` (every ``rows``-th row of ``range(h)``, or ``starts``); returns each worker's
    ``state`` (a dict for its workspace).

    With several workers the blocks are handed out one at a time to whichever thread is free
    (NumPy's copies and BLAS products release the GIL), and the BLAS runs on one thread
    meanwhile: a thread whose core another process holds then delays only its own block,
    where a BLAS split of each product across threads would stall every product. A single
    block (the 7×7 layers' stride-2 fold has one per phase) runs on the calling thread, also
    with the BLAS on one thread: a product OpenBLAS splits leaves its worker thread spinning
    for a while after (seen: 0.1 ms of BLAS work bought 0.5 ms of a spinning core), and in a
    resnet_small step on 2 threads those spins took the core the next blocks' second thread
    needed (process CPU 330-385 ms a step against 230-280 without them; benchmarks/README.md,
    "Threads"). ``blas=False``: the work calls no BLAS, leave its setting alone."""
    starts = list(range(0, h, rows)) if starts is None else list(starts)
    if workers == 1 or len(starts) == 1:
        state: dict = {}
        with _blas_single_thread() if blas and workers > 1 else contextlib.nullcontext():
            for i in starts:
                work(i, min(rows, h - i), state)
        return [state]
    queue = iter(starts)  # next() on a list iterator is atomic under the GIL
    lock = threading.Lock()

    def drain():
        state: dict = {}
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                return state
            work(i, min(rows, h - i), state)

    if _pool[1] != workers or _pool[2] != os.getpid():  # a forked child has none of the parent's threads
        if _pool[0] is not None and _pool[2] == os.getpid():
            _pool[0].shutdown(wait=False)
        _pool[:] = [concurrent.futures.ThreadPoolExecutor(workers - 1, thread_name_prefix="glassnet-blocks"),
                    workers, os.getpid()]
    with _blas_single_thread() if blas else contextlib.nullcontext():
        helpers = [_pool[0].submit(drain) for _ in range(workers - 1)]
        states = [drain()]
        states += [f.result() for f in helpers]
    return states
