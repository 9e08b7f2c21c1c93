"""The heap at Doris's sizes (dorisbk/memory.py): what is kept for good leaves the cyclic GC's passes, a
long pass is logged, and freed memory goes back to the system."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator

import pytest

from dorisbk import memory

pytestmark = pytest.mark.fast


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_a_freeze_takes_what_is_alive_out_of_the_passes(unfrozen: None) -> None:
    kept = [{"tablet": i} for i in range(5000)]
    before = gc.get_freeze_count()
    memory.freeze()
    assert gc.get_freeze_count() >= before + len(kept)


def test_a_long_full_pass_is_logged(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "LONG_GC_SECONDS", 0.0)
    memory.watch_gc()
    memory.watch_gc()  # once only
    with caplog.at_level(logging.WARNING, logger="dorisbk.memory"):
        gc.collect(2)
    passes = [r for r in caplog.records if "full cyclic GC pass held every thread" in r.getMessage()]
    assert len(passes) == 1


def test_release_hands_free_memory_back_where_the_c_library_can() -> None:
    memory.release()
    gc.unfreeze()
    assert memory._trim() is not None  # glibc here: malloc_trim is there to call


def test_what_a_block_without_the_gc_built_and_kept_is_frozen_before_the_gc_is_back(unfrozen: None) -> None:
    gc.collect()
    before = gc.get_freeze_count()
    with memory.no_cyclic_gc():
        kept = [{"tablet": i} for i in range(memory.FREEZE_AT * 2)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(kept)


def test_a_block_that_kept_little_leaves_the_gc_as_it_was(unfrozen: None) -> None:
    gc.collect()
    before = gc.get_freeze_count()
    with memory.no_cyclic_gc():
        kept = [{"tablet": i} for i in range(10)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == before
    assert len(kept) == 10


def test_drop_empties_a_dict_entry_by_entry() -> None:
    results = {n: [n] * 3 for n in range(100)}
    memory.drop(results)
    assert results == {}


def test_the_gc_comes_back_when_the_last_of_overlapping_blocks_ends() -> None:
    """A job step and a load on two threads: the one ending first leaves the GC off for the other."""
    assert gc.isenabled()
    with contextlib.ExitStack() as step:
        step.enter_context(memory.no_cyclic_gc())
        with memory.no_cyclic_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
