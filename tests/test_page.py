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

    # grouped by folder: each hit under the folder holding its file; one repository, so no grouping by it
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import Select

    assert browser.find_element(By.ID, "group-repo").get_attribute("hidden") is not None
    Select(browser.find_element(By.ID, "group-by")).select_by_value("dir")
    deadline, titles = time.time() + 20, []
    while "folder: inflection" not in titles and time.time() < deadline:
        try:
            titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".group-title")]
        except StaleElementReferenceException:  # redrawn while being read
            titles = []
        time.sleep(0.1)
    assert "folder: inflection" in titles and all(t.startswith("folder: ") for t in titles)
    Select(browser.find_element(By.ID, "group-by")).select_by_value("")

    # a snippet holding <script> is shown as code and never runs
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys("render the page banner", Keys.ENTER)
    deadline = time.time() + 20
    while "web.py" not in browser.find_element(By.ID, "results").text and time.time() < deadline:
        time.sleep(0.1)
    assert "<script>alert(1)</script>" in browser.find_element(By.ID, "results").text
    assert browser.execute_script("return document.querySelectorAll('main script').length") == 0

    # a function the code marks deprecated carries a badge
    box.clear()
    box.send_keys("return the text in capitals with an exclamation mark", Keys.ENTER)
    deadline = time.time() + 20
    while "legacy.py" not in browser.find_element(By.ID, "results").text and time.time() < deadline:
        time.sleep(0.1)
    legacy = [c for c in browser.find_elements(By.CSS_SELECTOR, ".code-hit") if "legacy.py" in c.text]
    assert legacy and legacy[0].find_element(By.CSS_SELECTOR, ".deprecated").text == "deprecated"
    assert not [c for c in browser.find_elements(By.CSS_SELECTOR, ".code-hit")
                if "legacy.py" not in c.text and c.find_elements(By.CSS_SELECTOR, ".deprecated")]

    # records: cards, marked words, find similar
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


TUTORIAL = Path(__file__).parent / "fixtures" / "startups_demo.json"
PYPI = Path(__file__).resolve().parents[2] / "shared" / "data" / "pypi-packages.jsonl"


@pytest.fixture(scope="module")
def records_server(tmp_path_factory):
    """The tutorial's startups loaded with no options, and real PyPI records loaded as the README does."""
    from semsearch.records.loader import RecordLoader

    if not PYPI.is_file():
        pytest.skip("shared/data/pypi-packages.jsonl is not beside the checkout")
    base = tmp_path_factory.mktemp("records-page")
    pypi = base / "pypi.jsonl"
    with PYPI.open() as f:
        pypi.write_text("".join(line for _, line in zip(range(300), f)))
    store = EdgeStore(base / "store")
    RecordLoader(store, "startups").load(TUTORIAL)
    RecordLoader(store, "pypi").load(pypi, text_fields=["name", "summary"], id_field="name", index_fields=["released"])
    with running(create_app(store, default_collection="startups")) as url:
        yield url, pypi
    store.close()


def until(condition, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while not (value := condition()) and time.time() < deadline:
        time.sleep(0.1)
    return value


def texts(browser, css: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of every element matching css, read at one moment (the page may be re-rendering)."""
    return browser.execute_script("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)", css)


def search_for(browser, query: str) -> list:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query, Keys.ENTER)
    assert until(lambda: f"“{query}”" not in browser.find_element(By.ID, "status").text
                 and "results in" in browser.find_element(By.ID, "status").text
                 and parse_qs(urlparse(browser.current_url).query).get("q") == [query]), query
    return browser.find_elements(By.CSS_SELECTOR, ".record-hit")


def test_record_cards_as_in_the_tutorials_demo(records_server, browser) -> None:
    from selenium.webdriver.common.by import By

    url, pypi = records_server
    browser.set_window_size(1280, 1000)
    browser.get(url + "/?collection=startups")
    startups_text = TUTORIAL.read_text().lower()
    examples = [a.text for a in wait_for(browser, "#examples a")]
    assert examples and all(example in startups_text for example in examples)  # drawn from these records

    oak = search_for(browser, "handmade wooden furniture")[0]
    title = oak.find_element(By.CSS_SELECTOR, "a.title")
    assert title.text == "Oakline" and title.get_attribute("href") == "https://oakline.example/"
    assert "noopener" in title.get_attribute("rel").split() and title.get_attribute("target") == "_blank"
    assert [chip.text for chip in oak.find_elements(By.CSS_SELECTOR, ".chip")] == ["city Berlin"]
    assert [m.text for m in oak.find_elements(By.CSS_SELECTOR, "p mark")] == ["Handmade", "wooden", "furniture"]
    # its picture's https URL cannot load here: the card keeps the placeholder, never a broken image
    assert until(lambda: not oak.find_elements(By.CSS_SELECTOR, ".picture img"))
    assert oak.find_element(By.CSS_SELECTOR, ".picture .placeholder").text == "O"
    bars = [int(b.get_attribute("aria-valuenow")) for b in browser.find_elements(By.CSS_SELECTOR, ".relevance")]
    assert bars[0] == max(bars) == 100 and min(bars) < 60  # how near each hit is to the best, not RRF's 0.033
    assert [r.text for r in browser.find_elements(By.CSS_SELECTOR, ".rank-no")][:3] == ["#1", "#2", "#3"]

    loom = search_for(browser, "rugs woven from wool")[0]  # a picture given inline (a data URI) loads and shows
    assert loom.find_element(By.CSS_SELECTOR, ".title").text == "Loomcraft"
    assert until(lambda: "loaded" in loom.find_element(By.CSS_SELECTOR, ".picture").get_attribute("class"))
    assert browser.execute_script("return arguments[0].naturalWidth", loom.find_element(By.TAG_NAME, "img")) > 0

    cards = search_for(browser, "outdoor furniture")
    lisbon = next(chip for card in cards for chip in card.find_elements(By.CSS_SELECTOR, ".chip")
                  if chip.text == "city Lisbon")
    lisbon.click()  # a label filters when clicked
    assert until(lambda: parse_qs(urlparse(browser.current_url).query).get("filter") == ["city:Lisbon"])
    assert until(lambda: set(texts(browser, ".record-hit .chip")) == {"city Lisbon"})
    assert browser.find_element(By.CSS_SELECTOR, '[data-field="city"]').get_attribute("value") == "Lisbon"
    browser.save_screenshot(str(SHOTS / "records-cards.png"))

    browser.get(url + "/?collection=startups&q=free+furniture+giveaway")  # the hostile record renders inert
    hostile = wait_for(browser, ".record-hit")[0]
    assert hostile.find_element(By.CSS_SELECTOR, ".title").text.startswith("<script>window.pwned")
    assert not hostile.find_elements(By.CSS_SELECTOR, "a.title")  # its javascript: link is not a link
    assert not hostile.find_elements(By.TAG_NAME, "img")  # its huge picture URL is not used
    assert "<img src=x onerror=" in hostile.text
    assert browser.execute_script("return window.pwned === undefined && document.querySelectorAll("
                                  "'main script, main [onerror], main a[href^=\"javascript\"]').length === 0")

    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "collection")).select_by_value("pypi")
    assert until(lambda: texts(browser, "#examples a") != examples)
    pypi_text = pypi.read_text().lower()
    offered = texts(browser, "#examples a")
    assert offered and all(example in pypi_text for example in offered)  # this collection's own, not the startups'
    browser.find_elements(By.CSS_SELECTOR, "#examples a")[0].click()  # a click searches it, in this collection
    assert until(lambda: parse_qs(urlparse(browser.current_url).query).get("q") == offered[:1]
                 and "results in" in browser.find_element(By.ID, "status").text)
    first = browser.find_element(By.CSS_SELECTOR, ".record-hit")
    assert first.find_element(By.CSS_SELECTOR, ".title").text.lower() in pypi_text
    folded = first.find_element(By.CSS_SELECTOR, "details.more-fields")  # the fields without a part, folded away
    assert folded.get_attribute("open") is None
    assert "latest_version" in folded.get_attribute("textContent")
    browser.set_window_size(390, 844)
    browser.get(url + "/?collection=startups&q=wooden+furniture")
    wait_for(browser, ".record-hit")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400  # phone width
    browser.set_window_size(1280, 1000)
