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


class Session:
    """One worker forked from this process that answers calls one after another, keeping in its own
    memory what each call made (a later call finds what an earlier one parsed). work is inherited
    at the fork, not pickled, so each call carries the data it needs; items and answers are pickled.
    A worker that dies (killed, out of memory) answers None, for the caller to do the work itself;
    our bug in a worker is raised here. Used as a context: leaving it ends the worker, and an
    interrupt or an error stops it at once."""

    def __init__(self, work: Callable[[Any], Any]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._connection, theirs = context.Pipe()
        # daemonic: should this process end without leaving the context, the worker ends with it
        self._process = context.Process(target=_serve, args=(theirs, self._connection, work), daemon=True)
        self._process.start()
        theirs.close()  # theirs alone now: the worker's end closes when it ends, and receive sees it
        self._alive = True

    def send(self, item: Any) -> None:
        """work(item) started in the worker (its answer waits for receive)."""
        if self._alive:
            try:
                self._connection.send(item)
            except OSError:  # a broken pipe: it died
                self._alive = False

    def receive(self) -> Any | None:
        """The answer to the oldest call not received yet; None when the worker died."""
        if not self._alive:
            return None
        try:
            done, answer = self._connection.recv()
        except (EOFError, OSError):
            self._alive = False
            return None
        if not done:
            raise answer
        return answer

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None:
            # the end of its calls, said (workers forked after it hold this end too): it ends by itself,
            # not waited for (multiprocessing collects it later, at the latest when this process ends)
            self.send(None)
        else:
            self._process.terminate()
            self._process.join()
        self._connection.close()


def _serve(connection: Any, callers: Any, work: Callable[[Any], Any]) -> None:
    """The worker's loop: each call answered in turn until the caller says its calls ended (or its
    end closes: it ended)."""
    _worker_start()
    callers.close()  # the caller's end, inherited: closed here, it closes when the caller's does
    while True:
        try:
            item = connection.recv()
        except EOFError:
            return
        if item is None:
            return
        try:
            answer: tuple[bool, Any] = (True, work(item))
        except Exception as error:  # our bug: raised in the caller, where it is reported
            answer = (False, _picklable(error))
        connection.send(answer)


def _picklable(error: Exception) -> Exception:
    import pickle
    import traceback

    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError("".join(traceback.format_exception(error)))
    return error
