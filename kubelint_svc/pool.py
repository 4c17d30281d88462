"""The pool: work done in worker processes forked from this one (many large files read, many
in-process kustomize builds), when there is enough of it to pay for the workers; nothing here
knows what the work means."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from kubelint_svc.settings import jobs_from_environment

POOL_MIN_BYTES = 4 * 1024 * 1024  # below this, starting workers costs more than it saves
POOL_MIN_FILES = 8

Item = TypeVar("Item")
Result = TypeVar("Result")

_WORK: list[Callable[[Any], Any]] = []  # what forked workers inherit


def pool_size(sizes: list[int]) -> int:
    """How many processes read files of these sizes: one unless they are many and large enough
    to pay for the pool, the machine has cores to spare and processes can be forked (Linux)."""
    if len(sizes) < POOL_MIN_FILES or sum(sizes) < POOL_MIN_BYTES or not can_fork():
        return 1
    return max(1, min(cores(), len(sizes) // POOL_MIN_FILES))


def can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def cores() -> int:
    """How many workers may run at once: as many as asked for (KUBELINT_SVC_JOBS), else the
    cores this process may run on."""
    wanted = jobs_from_environment()
    if wanted is None:
        wanted = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return wanted


def in_pool(workers: int, items: list[Item], sizes: list[int], work: Callable[[Item], Result],
            here: bool = False) -> list[Result | None]:
    """work(item) for each item, in their order, done by forked workers (work is inherited, not
    pickled); the largest items are handed out first so that no worker is left with one big file
    at the end. here: this process is one of the workers (one fewer is forked): it takes its share
    of the items, the largest (a worker also starts and sends its results back), before waiting
    (it keeps the interpreter's lock meanwhile, so the items are few and large: the pool's own
    threads hand them out only now and then). A worker that dies (killed, out of memory) breaks
    the pool instead of leaving it waiting for ever: what was not given back is None, for the
    caller to do itself. An interrupt, or our bug in a worker, stops every worker."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _WORK[:] = [work]
    order = sorted(range(len(items)), key=lambda index: -sizes[index])
    results: list[Result | None] = [None] * len(items)
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max(1, workers - here), mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_start)
    mine = order[:len(order) // workers] if here else []
    order = order[len(mine):]
    try:
        futures = [pool.submit(_work_in_worker, items[index]) for index in order]
        for index in mine:
            results[index] = work(items[index])
        for index, future in zip(order, futures, strict=True):
            results[index] = future.result()
    except BrokenProcessPool:
        pass
    except BaseException:
        # stopped, not cancelled: the pool then fails what is left (cancelling races its clean-up)
        # the pool's workers are the children started since it was made (Python names them
        # publicly only from 3.14, terminate_workers)
        for process in set(multiprocessing.active_children()) - before:
            process.terminate()
        pool.shutdown(wait=True)  # quick: the workers are gone
        raise
    finally:
        _WORK.clear()
    pool.shutdown(wait=True)
    return results


def _worker_start() -> None:
    """Ctrl-C is the parent's to handle: it stops the workers."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work_in_worker(item: Any) -> Any:
    return _WORK[0](item)  # set before the fork
