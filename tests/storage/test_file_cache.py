"""The snapshot file cache on a real LOCAL repository: verified copies, pins, least-recently-used eviction within
the bound, and nothing kept of a file that fails its checksum."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dorisbk.errors import DorisError
from dorisbk.storage.file_cache import FileCache, Wanted
from dorisbk.storage.local import LocalFileSystem
from dorisbk.storage.repository import ChecksumMismatchError, Repository

pytestmark = pytest.mark.fast  # in process, no server

SIZE = 100


class Bound:
    """The cache's capacity, changed by the test as ADMIN SET FRONTEND CONFIG would."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __call__(self) -> int:
        return self.value


def put(repo: Repository, name: str, fill: bytes) -> Wanted:
    data = fill * SIZE
    path = f"{repo.root}/{name}.{hashlib.md5(data).hexdigest()}"
    repo.fs.put_bytes(path, data)
    return Wanted(path, SIZE)


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository(LocalFileSystem(f"file://{tmp_path / 'repo'}"), "r")


def cached(cache: FileCache) -> set[str]:
    return {p.name for p in cache.root.iterdir()}


def test_copies_are_verified_reused_and_evicted_least_recently_used_first(repo: Repository, tmp_path: Path) -> None:
    bound = Bound(2 * SIZE)
    cache = FileCache(tmp_path / "cache", bound, "knob")
    a, b, c = (put(repo, n, n.encode()) for n in "abc")
    lease = cache.fetch(repo, [a])
    assert Path(lease.paths[0]).read_bytes() == b"a" * SIZE
    first = set(cached(cache))
    lease.release()
    cache.fetch(repo, [b]).release()
    cache.fetch(repo, [a]).release()  # a is now the most recently used: c evicts b
    again = cache.fetch(repo, [c])
    assert len(cached(cache)) == 2 and first <= cached(cache)
    # pinned files are never evicted: a and c pinned, b does not fit
    pinned = cache.fetch(repo, [a])
    with pytest.raises(DorisError, match="do not fit in the snapshot cache.*`knob`"):
        cache.fetch(repo, [b])
    assert len(cached(cache)) == 2
    again.release()
    pinned.release()
    bound.value = SIZE  # lowered: kept once nothing pins the excess
    cache.fetch(repo, [b]).release()
    assert len(cached(cache)) == 1


def test_a_file_that_fails_its_checksum_is_not_kept(repo: Repository, tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "cache", Bound(10 * SIZE), "knob")
    good = put(repo, "good", b"g")
    bad = put(repo, "bad", b"b")
    repo.fs.put_bytes(bad.remote_path, b"x" * SIZE)  # the content no longer matches the name
    with pytest.raises(ChecksumMismatchError, match="invalid md5 of downloaded file"):
        cache.fetch(repo, [good, bad])
    assert cached(cache) == set()  # not even the good one of the failed batch
    lease = cache.fetch(repo, [good])
    assert Path(lease.paths[0]).read_bytes() == b"g" * SIZE


def test_emptied_at_start(repo: Repository, tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "cache", Bound(10 * SIZE), "knob")
    cache.fetch(repo, [put(repo, "a", b"a")]).release()
    assert cached(cache)
    assert cached(FileCache(tmp_path / "cache", Bound(10 * SIZE), "knob")) == set()
