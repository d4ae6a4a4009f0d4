"""The one way coroutines hand CPU-bound work to a thread (planning, fares, decoding, compiling),
and the one way a start-up context stops the background task it started."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["cancel_and_wait", "run_blocking"]

P = ParamSpec("P")
T = TypeVar("T")


async def run_blocking(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a sync, CPU- or disk-bound function in the default executor and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel a background task (None: nothing to stop) and wait until it has stopped; its
    cancellation is not an error of the caller."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
