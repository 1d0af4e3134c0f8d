"""How fast the playground learns and draws: the bar is the 3-class spiral with a
2-16-16-3 ReLU net at >= 95% training accuracy within 20 s of pressing play, with the views
refreshing at >= 10 frames per second, on 2 cores.

    python benchmarks/playground_speed.py            # seeds 0 1 2, 12 s of frame counting each
    python benchmarks/playground_speed.py --seeds 0 --watch 5

Starts ``glassnet playground`` in its own process (as a user would), opens the shared URL in
headless Debian chromium (selenium), presses play, and reads the page's own read-outs: the time
until the training-accuracy read-out first shows >= 95%, then the page's views/s read-out (frames
received *and drawn* per second) once a second while it keeps training, with the time one frame
costs to draw in the page and the CPU time it costs to render on the server. Prints one row per seed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import psutil
from selenium import webdriver
from selenium.webdriver.common.by import By

URL = "/?dataset=spiral&hidden=16,16&activation=relu&lr=0.01&seed={seed}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,1260"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="glassnet-bench-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=webdriver.ChromeService(shutil.which("chromedriver")), options=options)
    return driver, profile


def read(driver, testid: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]').text


def cpu_seconds(processes) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_seed(driver, base: str, seed: int, watch: float, server_pid: int) -> dict:
    driver.get(base + URL.format(seed=seed))
    deadline = time.time() + 30
    while read(driver, "step-count") != "0" or read(driver, "train-accuracy") in ("", "–"):
        if time.time() > deadline:
            raise RuntimeError("the page did not show its first frame within 30 s")
        time.sleep(0.05)
    driver.find_element(By.CSS_SELECTOR, '[data-testid="play"]').click()
    start = time.perf_counter()
    reached = None
    while time.perf_counter() - start < 60:
        text = read(driver, "train-accuracy")
        if text.endswith("%") and float(text[:-1]) >= 95.0:
            reached = time.perf_counter() - start
            break
        time.sleep(0.1)
    steps_at_95 = int(read(driver, "step-count"))
    fps = []
    draw_ms, server_ms = [], []
    browser = psutil.Process(driver.service.process.pid).children(recursive=True)
    server = [psutil.Process(server_pid)]
    frames0 = driver.execute_script("return window.glassnetFramesDrawn || 0")
    cpu0, wall0 = (cpu_seconds(browser), cpu_seconds(server)), time.perf_counter()
    end = time.perf_counter() + watch
    time.sleep(1.05)
    while time.perf_counter() < end:
        fps.append(float(read(driver, "fps")))
        draw_ms.append(driver.execute_script("return window.glassnetDrawMs || 0"))
        server_ms.append(driver.execute_script("return window.glassnetServerMs || 0"))
        time.sleep(1.0)
    frames = driver.execute_script("return window.glassnetFramesDrawn || 0") - frames0
    wall = time.perf_counter() - wall0
    browser_cpu, server_cpu = cpu_seconds(browser) - cpu0[0], cpu_seconds(server) - cpu0[1]
    return {"seed": seed, "seconds_to_95": reached, "frames": frames, "wall": wall,
            "browser_cpu_ms": 1e3 * browser_cpu / max(frames, 1), "browser_cores": browser_cpu / wall,
            "server_cores": server_cpu / wall, "steps_to_95": steps_at_95, "fps": fps,
            "draw_ms": statistics.median(draw_ms) if draw_ms else float("nan"),
            "server_ms": statistics.median(server_ms) if server_ms else float("nan"),
            "final_accuracy": read(driver, "train-accuracy")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--watch", type=float, default=12.0, help="seconds of views/s readings per seed")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "glassnet.cli.main", "playground", "--port", str(port),
                               "--no-browser"], stdout=subprocess.PIPE, text=True)
    server.stdout.readline()  # the URL line: the server is up
    driver, profile = start_browser()
    try:
        rows = [run_seed(driver, f"http://127.0.0.1:{port}", seed, args.watch, server.pid) for seed in args.seeds]
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        server.terminate()
        server.wait(10)
    load = os.getloadavg()
    print(f"playground speed, {os.cpu_count()} CPUs, load average {load[0]:.1f} during the run "
          f"(a machine shared with other jobs: timings are contended)")
    print(f"{'seed':>4}  {'s to 95%':>8}  {'steps':>6}  {'views/s median':>14}  {'views/s min':>11}  "
          f"{'page ms':>7}  {'server ms':>9}  {'browser CPU ms':>14}  {'cores: browser':>14}  {'server':>6}  final")
    for r in rows:
        t = f"{r['seconds_to_95']:.1f}" if r["seconds_to_95"] is not None else "never"
        print(f"{r['seed']:>4}  {t:>8}  {r['steps_to_95']:>6}  {statistics.median(r['fps']):>14.1f}  "
              f"{min(r['fps']):>11.1f}  {r['draw_ms']:>7.1f}  {r['server_ms']:>9.1f}  {r['browser_cpu_ms']:>14.1f}  "
              f"{r['browser_cores']:>14.2f}  {r['server_cores']:>6.2f}  {r['final_accuracy']}")
    print("views/s: frames received and drawn per second, the page's own read-out; page ms: wall time to draw "
          "one frame in the page; server ms: CPU time of the server thread to render one frame (medians);\n"
          "browser CPU ms: CPU time of all chromium processes per frame drawn; cores: the share of a core each "
          "side got while training (the server trains in the time frames leave, so it takes a core when it can)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
