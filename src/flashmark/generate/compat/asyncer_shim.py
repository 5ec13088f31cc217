"""A stand-in for the parts of `asyncer` the vault's helper library uses.

pytextgen depends on asyncer, and ``scripts/utility.py.md`` does
``from asyncer import create_task_group`` and ``tg.soonify(f)(...)`` then ``.value``.
When asyncer is not installed, flashmark offers this small asyncio version while note
code runs (the real package is used when it is installed).
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Callable
from typing import Any


class PendingValueException(Exception):  # noqa: N818  (asyncer's name)
    pass


class SoonValue:
    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task

    @property
    def ready(self) -> bool:
        return self._task.done()

    @property
    def value(self) -> Any:
        if not self._task.done():
            raise PendingValueException("the task group has not finished yet")
        return self._task.result()


class TaskGroup:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[Any]] = []

    async def __aenter__(self) -> TaskGroup:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks)

    def soonify(self, func: Callable[..., Awaitable[Any]],
                name: object = None) -> Callable[..., SoonValue]:
        def start(*args: Any, **kwargs: Any) -> SoonValue:
            task = asyncio.ensure_future(func(*args, **kwargs))
            self._tasks.append(task)
            return SoonValue(task)
        return start

    def start_soon(self, func: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self._tasks.append(asyncio.ensure_future(func(*args)))


def create_task_group() -> TaskGroup:
    return TaskGroup()


def module() -> types.ModuleType:
    mod = types.ModuleType("asyncer", "flashmark's stand-in for asyncer (task groups only)")
    mod.create_task_group = create_task_group  # type: ignore[attr-defined]
    mod.TaskGroup = TaskGroup  # type: ignore[attr-defined]
    mod.SoonValue = SoonValue  # type: ignore[attr-defined]
    mod.PendingValueException = PendingValueException  # type: ignore[attr-defined]
    return mod
