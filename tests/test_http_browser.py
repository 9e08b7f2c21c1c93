"""The status pages in a real headless browser (Debian's chromium through chromium-driver, driven by
selenium): the pages load after a login, a running job's bar moves on its own as the page polls, and
each page is saved as a screenshot in the test's tmp dir. With DORISBK_UPDATE_DOCS=1 the jobs page's
screenshot also replaces docs/status-page.png (the README's picture)."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import pause, wait_ended
from tests.sqlhelp import wait_until

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:  # pragma: no cover - scripts/test-deps.sh installs it
    webdriver = None

pytestmark = pytest.mark.skipif(
    webdriver is None or CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs selenium and Debian's chromium + chromium-driver (scripts/test-deps.sh installs them)",
)
DOCS_PICTURE = Path(__file__).resolve().parent.parent / "docs" / "status-page.png"


@pytest.fixture
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def login(driver: Any, user: str, password: str) -> None:
    """Basic credentials on every request the browser makes from now on, the page's own polling too."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})


def test_pages_show_jobs_repositories_and_a_moving_bar(browser: Any, tmp_path: Path) -> None:
    srv = DorisbkServer(tmp_path / "data", http=True).start()
    try:
        _drive(browser, srv, tmp_path)
    finally:
        srv.stop()


def _drive(driver: Any, srv: DorisbkServer, tmp_path: Path) -> None:
    location = tmp_path / "repo"
    location.mkdir()
    with srv.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE USER ops IDENTIFIED BY 'ops-pass'")
        cur.execute("GRANT ADMIN_PRIV ON *.*.* TO ops")
        cur.execute("CREATE DATABASE web")
        cur.execute(
            "CREATE TABLE web.t (k INT, v VARCHAR(20)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4 "
            "PROPERTIES ('replication_num' = '1')"
        )
        cur.execute(f'CREATE REPOSITORY webrepo WITH LOCAL ON LOCATION "file://{location}"')
        for n, label in enumerate(("daily_1", "daily_2", "daily_3")):
            values = ", ".join(f"({k}, 'value {k}')" for k in range(n * 500, (n + 1) * 500))
            cur.execute(f"INSERT INTO web.t VALUES {values}")
            cur.execute(f"BACKUP SNAPSHOT web.{label} TO webrepo ON (t)")
            assert wait_ended(conn, "BACKUP", "web")[3] == "FINISHED"
        pause(conn, "PENDING")
        cur.execute("BACKUP SNAPSHOT web.held TO webrepo ON (t)")
        cur.execute("SHOW BACKUP FROM web")
        job_id = cur.fetchall()[-1][0]

        driver.get(srv.http_url("/"))
        assert "Backup and restore jobs" not in driver.page_source  # no login yet: the browser is asked for one
        login(driver, "ops", "ops-pass")
        driver.get(srv.http_url("/"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Backup and restore jobs"
        row = driver.find_element(By.ID, f"job-{job_id}")
        fill = row.find_element(By.CLASS_NAME, "fill")
        assert row.find_element(By.CLASS_NAME, "state").text == "PENDING"
        assert fill.value_of_css_property("width") == "0px"  # held: nothing done yet
        recent = driver.find_elements(By.CSS_SELECTOR, "table")[1].text
        assert "daily_1" in recent and "daily_3" in recent and "/s" in recent  # durations and throughput
        driver.save_screenshot(str(tmp_path / "jobs-running.png"))
        if os.environ.get("DORISBK_UPDATE_DOCS") == "1":
            shutil.copyfile(tmp_path / "jobs-running.png", DOCS_PICTURE)

        pause(conn, "UPLOADING")  # the job moves on, and is held again once its uploads are sent
        wait_until(lambda: row.find_element(By.CLASS_NAME, "state").text == "UPLOADING", "the bar's state to move", 60)
        wait_until(lambda: row.get_attribute("data-fraction") == "1", "the uploads' bar to fill", 60)
        assert " files, " in row.find_element(By.CLASS_NAME, "pct").text  # the transfer's own counts
        pause(conn)  # released: it finishes, and the page shows it without a reload
        wait_until(lambda: row.find_element(By.CLASS_NAME, "state").text == "FINISHED", "the job to finish", 60)
        assert fill.get_attribute("style") == "width: 100%;"
        assert "step 7/7" in row.find_element(By.CLASS_NAME, "pct").text
        driver.save_screenshot(str(tmp_path / "jobs-finished.png"))

    driver.get(srv.http_url("/repositories"))
    assert "webrepo" in driver.find_element(By.TAG_NAME, "table").text
    driver.save_screenshot(str(tmp_path / "repositories.png"))
    driver.get(srv.http_url("/snapshots"))
    plot = driver.find_element(By.CSS_SELECTOR, "svg.sizes")
    assert len(plot.find_elements(By.TAG_NAME, "circle")) == 4  # the three dailies and the held one
    table = driver.find_element(By.TAG_NAME, "table").text
    assert all(label in table for label in ("daily_1", "daily_2", "daily_3", "held"))
    driver.save_screenshot(str(tmp_path / "snapshots.png"))
    for name in ("jobs-running", "jobs-finished", "repositories", "snapshots"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
