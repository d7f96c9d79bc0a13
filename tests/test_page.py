"""The search page in real headless Chromium, against a real server on loopback."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import uvicorn

from semsearch.api import create_app
from semsearch.index_job import IndexJob
from semsearch.store.edge import EdgeStore
from semsearch.store.shared import SharedStore
from tests.conftest import build_demo_store, free_port

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (scripts/install adds them)")
SHOTS = Path(__file__).parent / ".cache" / "screenshots"


@contextmanager
def running(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not uv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory, inflection_src: Path):
    store, _ = build_demo_store(tmp_path_factory.mktemp("page"), inflection_src)
    with running(create_app(store, source_urls={"code": "https://example.org/repo/blob/abc123"})) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1000", f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(20)
    yield driver
    driver.quit()


def wait_for(driver, css: str, timeout: float = 30.0, count: int = 1):
    from selenium.webdriver.common.by import By

    deadline = time.time() + timeout
    while time.time() < deadline:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {css!r} after {timeout} s; status: {driver.find_element(By.ID, 'status').text!r}")


def test_search_page_end_to_end(server: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(server + "/")
    wait_for(browser, "#collection option", count=2)
    browser.find_element(By.TAG_NAME, "body").send_keys("/")  # '/' focuses the search box
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    browser.switch_to.active_element.send_keys("return the plural form of a word", Keys.ENTER)
    cards = wait_for(browser, ".code-hit")
    first = cards[0]
    assert "inflection/__init__.py" in first.find_element(By.CSS_SELECTOR, ".loc").text
    assert first.find_element(By.CSS_SELECTOR, ".loc").get_attribute("href").startswith(
        "https://example.org/repo/blob/abc123/inflection/__init__.py#L")
    assert first.find_elements(By.CSS_SELECTOR, ".tok-kw"), "code is syntax-highlighted"
    assert first.find_elements(By.CSS_SELECTOR, ".line.agree"), "lines where the models agree are marked"
    assert parse_qs(urlparse(browser.current_url).query)["q"] == ["return the plural form of a word"]
    before = len(first.find_elements(By.CSS_SELECTOR, ".line"))
    first.find_element(By.CSS_SELECTOR, ".more-below").click()
    wait_for(browser, ".code-hit .line.context")
    assert len(first.find_elements(By.CSS_SELECTOR, ".line")) > before
    browser.save_screenshot(str(SHOTS / "code.png"))

    # full-text mode re-runs the query
    browser.find_element(By.CSS_SELECTOR, '#modes [data-mode="lexical"]').click()
    wait_for(browser, "#status")
    deadline = time.time() + 20
    while "(lexical)" not in browser.find_element(By.ID, "status").text and time.time() < deadline:
        time.sleep(0.1)
    assert "(lexical)" in browser.find_element(By.ID, "status").text

    # a snippet holding <script> is shown as code and never runs
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys("render the page banner", Keys.ENTER)
    deadline = time.time() + 20
    while "web.py" not in browser.find_element(By.ID, "results").text and time.time() < deadline:
        time.sleep(0.1)
    assert "<script>alert(1)</script>" in browser.find_element(By.ID, "results").text
    assert browser.execute_script("return document.querySelectorAll('main script').length") == 0

    # records: cards, marked words, find similar
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "collection")).select_by_value("startups")
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys("wooden furniture", Keys.ENTER)
    wait_for(browser, ".record-hit")
    deadline = time.time() + 20
    while not browser.find_elements(By.CSS_SELECTOR, ".record-hit mark") and time.time() < deadline:
        time.sleep(0.1)
    assert browser.find_elements(By.CSS_SELECTOR, ".record-hit mark")[0].text.lower() in ("wooden", "furniture")
    browser.find_elements(By.CSS_SELECTOR, ".record-hit .similar")[0].click()
    deadline = time.time() + 20
    while "records like" not in browser.find_element(By.ID, "status").text and time.time() < deadline:
        time.sleep(0.1)
    assert "records like" in browser.find_element(By.ID, "status").text
    browser.save_screenshot(str(SHOTS / "records.png"))


def test_empty_error_and_phone_width(server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    browser.get(server + "/?q=zzqxj+vvbnm+wq&mode=lexical&collection=code")
    deadline = time.time() + 20
    while "No results" not in browser.find_element(By.ID, "status").text and time.time() < deadline:
        time.sleep(0.1)
    assert "No results" in browser.find_element(By.ID, "status").text
    browser.get(server + "/?q=x&collection=code&filter=language:cobolx")
    deadline = time.time() + 20
    while "unknown language" not in browser.find_element(By.ID, "status").text and time.time() < deadline:
        time.sleep(0.1)
    assert "error" in browser.find_element(By.ID, "status").get_attribute("class")
    browser.get(server + "/?q=plural+of+a+word&collection=code")
    wait_for(browser, ".code-hit")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 400, "no horizontal scrolling of the page at phone width"
    browser.save_screenshot(str(SHOTS / "phone.png"))
    browser.set_window_size(1280, 1000)


def test_indexing_progress_then_search(tmp_path: Path, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    tree = tmp_path / "repo"
    tree.mkdir()
    for f in range(20):  # ~600 distinct functions: several seconds of embedding to watch
        (tree / f"module_{f}.py").write_text("\n\n".join(
            f"def task_{f}_{i}(items):\n    \"\"\"Handle job {f * 100 + i} for batch {i} of module {f}.\"\"\"\n"
            f"    return [item * {i} + {f} for item in items]" for i in range(30)) + "\n")
    (tree / "money.py").write_text("def convert_currency(amount, rate):\n    \"\"\"Convert an amount of money "
                                   "into another currency.\"\"\"\n    return amount * rate\n")
    with EdgeStore(tmp_path / "store") as opened:
        store = SharedStore(opened)
        job = IndexJob(store, tree, "code")
        with running(create_app(store, job=job)) as url:
            browser.get(url + "/")
            wait_for(browser, "#status")
            job.start()
            box = browser.find_element(By.ID, "indexing")
            deadline = time.time() + 60
            while not box.find_elements(By.TAG_NAME, "progress") and time.time() < deadline:
                time.sleep(0.05)
            assert "structures" in box.text and box.find_elements(By.TAG_NAME, "progress")
            browser.save_screenshot(str(SHOTS / "indexing.png"))
            job.join(timeout=300)
            deadline = time.time() + 20
            while not box.text.startswith("Index of") and time.time() < deadline:
                time.sleep(0.1)
            assert box.text.startswith("Index of") and "601 structures" in box.text
            wait_for(browser, "#collection option")  # the page reloaded its collections when the run ended
            browser.find_element(By.ID, "q").send_keys("exchange money between currencies", Keys.ENTER)
            first = wait_for(browser, ".code-hit")[0]
            assert "money.py" in first.find_element(By.CSS_SELECTOR, ".loc").text
