"""What a job's record keeps of its transfer, and what an ended transfer reports (in process)."""

from __future__ import annotations

import pytest

from dorisbk.jobs.transfer_progress import RateMeter, TransferProgress, Transferred, report

pytestmark = pytest.mark.fast


def test_an_ended_transfer_survives_its_record() -> None:
    ended = TransferProgress(Transferred(8, 8, 4096, 4096, 3072), start_ms=1_000, end_ms=3_000)
    assert TransferProgress.from_dict(ended.to_dict()) == ended
    # a record without progress (an older dorisbk), or with a transfer cut by a stop: it starts over
    assert TransferProgress.from_dict(None) == TransferProgress()
    running = TransferProgress(Transferred(1, 8, 10, 4096, 10), start_ms=1_000)
    assert TransferProgress.from_dict(running.to_dict()) == TransferProgress()


def test_ended_transfers_report_their_average_rate() -> None:
    done = TransferProgress(Transferred(8, 8, 4096, 4096, 3072), start_ms=1_000, end_ms=3_000)
    got = report(done, None, RateMeter())
    assert (got.counts, got.rate, got.eta_s) == (done.counts, 1536, 0)  # moved bytes over 2 s; nothing left
    cut = TransferProgress(Transferred(2, 8, 1024, 4096, 1024), start_ms=1_000, end_ms=2_000)
    assert report(cut, None, RateMeter()).eta_s is None  # cancelled midway: no time left to speak of
    not_started = report(TransferProgress(), None, RateMeter())
    assert (not_started.counts, not_started.rate, not_started.eta_s) == (Transferred(), 0, None)


def test_a_running_transfer_without_a_rate_yet_has_no_eta() -> None:
    running = TransferProgress(start_ms=1_000)
    meter = RateMeter()
    meter.start()
    got = report(running, Transferred(0, 8, 0, 4096, 0), meter)
    assert (got.rate, got.eta_s) == (0, None)
    assert report(running, Transferred(8, 8, 4096, 4096, 4096), meter).eta_s == 0
