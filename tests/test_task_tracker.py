"""A job's agent tasks (dorisbk/jobs/task_tracker.py): results collected once all end, and what a task built
kept out of the cyclic GC's passes, so that a pass never walks a whole state's tablets."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dorisbk.backend.tasks import AgentTask, TaskExecutor
from dorisbk.jobs.task_tracker import TaskTracker

pytestmark = pytest.mark.fast


@dataclass
class BuildTask(AgentTask):
    """Builds one dict per tablet, as a snapshot or dir-move task builds its tablets' results."""

    tablets: int = 0

    def run(self) -> Any:
        return [{"tablet": n, "files": [f"{n}_0.parquet"]} for n in range(self.tablets)]


@pytest.fixture
def executor() -> Iterator[TaskExecutor]:
    executor = TaskExecutor()
    yield executor
    executor.shutdown()
    gc.unfreeze()


def test_results_come_once_every_task_has_ended_and_are_out_of_the_gc_passes(executor: TaskExecutor) -> None:
    tracker = TaskTracker(job_id=7)
    gc.collect()
    before = gc.get_freeze_count()
    for _ in range(3):
        tracker.submit(executor, BuildTask(backend_id=1, tablets=2000))
    results = None
    for _ in range(10_000):  # bounded: the futures end within it
        results = tracker.collect({})
        if results is not None:
            break
        executor.submit(BuildTask(backend_id=1)).result()  # a task through the same workers: they have moved on
    assert results is not None
    assert [len(r) for r in results] == [2000, 2000, 2000]
    assert tracker.counts() == (3, 3)
    # each result's dicts and lists (two containers per tablet) left the passes when its task ended
    assert gc.get_freeze_count() >= before + 3 * 2000 * 2
    tracker.reset()
    assert tracker.counts() == (0, 0)
