"""The playground end to end in a real browser: Debian's headless chromium driven by selenium.

``python3 bootstrap.py test`` installs chromium and chromium-driver (apt-get, as root on Debian);
where they are missing these tests skip and say so. Set GLASSNET_PLAYGROUND_SCREENSHOT=path.png
to keep the screenshot of the shared-URL run.
"""

import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

pytest.importorskip("starlette", reason="the playground needs starlette (glassnet[playground])")
uvicorn = pytest.importorskip("uvicorn", reason="the playground needs uvicorn (glassnet[playground])")
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser tests need selenium (pip install selenium)")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from glassnet.playground.server import create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=(
    "Debian's chromium and chromium-driver are not installed (python3 bootstrap.py test installs them "
    "as root on Debian: apt-get install chromium chromium-driver)"))
SHARED_URL = "/?dataset=spiral&hidden=16,16&activation=relu&lr=0.01&seed=0&autostart=1"


@pytest.fixture(scope="module")
def base_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the playground server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,1260"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="glassnet-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _text(driver, testid):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]').text


def _click(driver, testid):
    driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]').click()


def _percent(text):
    return float(text.rstrip("%")) / 100 if text.endswith("%") else None


def _console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _wait(driver, condition, timeout=30):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))


def test_a_shared_url_plays_learns_and_draws(browser, base_url, tmp_path):
    browser.get(base_url + SHARED_URL)
    _wait(browser, lambda d: (_percent(_text(d, "train-accuracy")) or 0) >= 0.95)
    assert int(_text(browser, "step-count")) > 0
    assert float(_text(browser, "loss")) < 0.5 and _percent(_text(browser, "test-accuracy")) >= 0.85
    # the decision regions are drawn: many colours, hardly any blank (white or transparent) pixels
    colours, blank = browser.execute_script("""
        const c = document.querySelector('[data-testid="decision-boundary"]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, seen = new Set();
        let blank = 0;
        for (let i = 0; i < d.length; i += 4) {
          seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          if (d[i + 3] === 0 || (d[i] > 250 && d[i + 1] > 250 && d[i + 2] > 250)) blank++;
        }
        return [seen.size, blank / (d.length / 4)];""")
    assert colours > 100 and blank < 0.2
    # the views-per-second readout is updated once a second: a fast run can reach 95% before its first update
    _wait(browser, lambda d: float(_text(d, "fps") or 0) > 0, timeout=10)
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="message"]').get_attribute("hidden")
    browser.save_screenshot(str(tmp_path / "playground.png"))
    if os.environ.get("GLASSNET_PLAYGROUND_SCREENSHOT"):
        browser.save_screenshot(os.environ["GLASSNET_PLAYGROUND_SCREENSHOT"])
    assert (tmp_path / "playground.png").stat().st_size > 10_000
    assert _console_errors(browser) == []


def test_pause_step_reset_hover_export_and_edit(browser, base_url):
    browser.get(base_url + SHARED_URL)
    _wait(browser, lambda d: int(_text(d, "step-count")) > 50)
    _click(browser, "play")  # pause
    _wait(browser, lambda d: d.find_element(By.ID, "play").get_attribute("aria-pressed") == "false")
    time.sleep(0.3)
    paused = int(_text(browser, "step-count"))
    _click(browser, "step")
    _wait(browser, lambda d: int(_text(d, "step-count")) == paused + 1, 10)
    _click(browser, "reset")
    _wait(browser, lambda d: _text(d, "step-count") == "0", 10)
    first = _text(browser, "loss")
    _click(browser, "step")
    _wait(browser, lambda d: _text(d, "step-count") == "1", 10)
    after_one = _text(browser, "loss")
    _click(browser, "reset")  # the same init again: the same losses
    _wait(browser, lambda d: _text(d, "step-count") == "0", 10)
    assert _text(browser, "loss") == first
    _click(browser, "step")
    _wait(browser, lambda d: _text(d, "step-count") == "1", 10)
    assert _text(browser, "loss") == after_one

    # hovering a neuron of the first hidden layer shows w·x + b, its activation and its gradient
    node = browser.execute_script("const n = nodes.find((n) => n.layer === 1 && n.unit === 3); "
                                  "return [n.x + n.s / 2, n.y + n.s / 2];")
    canvas = browser.find_element(By.CSS_SELECTOR, '[data-testid="network"]')
    size = canvas.size
    ActionChains(browser).move_to_element_with_offset(canvas, node[0] - size["width"] / 2,
                                                      node[1] - size["height"] / 2).perform()
    readout = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="hover-readout"]')
                    if "layer 1, unit 4" in _text(d, "hover-readout") else False, 10)
    assert "w·x + b" in readout.text and "activation a" in readout.text and "∂C/∂z" in readout.text

    _click(browser, "export")
    _wait(browser, lambda d: "optim.Adam(model.parameters(), lr=0.01)" in
          d.find_element(By.CSS_SELECTOR, '[data-testid="export-code"]').get_attribute("value"), 10)
    browser.execute_script("document.getElementById('export-dialog').close()")

    _click(browser, "add-layer")
    _wait(browser, lambda d: _text(d, "shape").startswith("2–16–16–4–3"), 10)
    assert "hidden=16%2C16%2C4" in browser.current_url or "hidden=16,16,4" in browser.current_url
    assert _console_errors(browser) == []


def test_bad_input_gives_a_message_and_a_working_page(browser, base_url, tmp_path):
    browser.get(base_url + "/?lr=fast&hidden=16,abc&optimizer=adamw")
    message = _wait(browser, lambda d: _text(d, "message") or False, 10)
    assert "lr: expected a number" in message and "hidden: expected" in message and "optimizer: expected" in message
    _click(browser, "play")
    _wait(browser, lambda d: int(_text(d, "step-count")) > 10, 15)
    _click(browser, "play")

    upload = browser.find_element(By.CSS_SELECTOR, '[data-testid="csv-file"]')
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0.1,0.2,a\n0.3,oops,b\n")
    upload.send_keys(str(bad))
    _wait(browser, lambda d: "bad.csv, line 3: the features must be numbers, got 'oops'" in _text(d, "message"), 10)
    good = tmp_path / "ring.csv"
    good.write_text("\n".join(f"{(i % 13) / 6 - 1:.3f},{(i % 7) / 3 - 1:.3f},{'in' if i % 3 else 'out'}"
                               for i in range(60)))
    upload.send_keys(str(good))
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="dataset"]').get_attribute("value") == "csv"
          and _text(d, "shape").startswith("2–16–16–2"), 10)
    _click(browser, "step")
    _wait(browser, lambda d: _text(d, "step-count") == "1", 10)
    assert _console_errors(browser) == []
