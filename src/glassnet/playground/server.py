"""The playground's web server: a Starlette app, one training thread per open tab.

Routes: ``/`` the page (static HTML/JS/CSS of this package), ``/api/schema`` the parameters and
their choices, ``/api/config?...`` a query checked and completed, ``/ws`` the session stream.

On ``/ws`` the page sends commands as JSON (``config``, ``play``, ``pause``, ``step``, ``reset``,
``speed``, ``probe``, ``csv``, ``export``) and receives ``setup``, ``frame``, ``probe``,
``export`` and ``error`` messages. Each connection owns a :class:`Runner` thread that alone
touches its :class:`~glassnet.playground.session.Session`; when the tab closes, the thread is
stopped and joined. glassnet's grad mode is process-wide, so runners take turns (one lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import queue
import threading
import time
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import config as config_module
from .datasets import parse_csv
from .export import python_script
from .session import Session

STATIC = Path(__file__).parent / "static"
COMPUTE_LOCK = threading.Lock()  # glassnet's no_grad() switch is global: one session computes at a time
FRAME_INTERVAL = 1 / 30          # at most 30 frames per second
TARGET_FRAME_TIME = 1 / 15       # while playing: training gets what a frame leaves of 1/15 s ...
MIN_TRAIN_SLICE = 0.01           # ... but at least 10 ms between two frames
STEPS_PER_SECOND = {1: 2, 2: 10, 3: 50, 4: 250, 5: 1000, 6: None}  # speed → cap (None: no cap)


class Runner(threading.Thread):
    """Drives one session: takes commands from :meth:`submit`, trains while playing, and hands
    messages to ``send(message)`` (called from this thread; it must be thread-safe). A frame is
    rendered only when the previous one has been sent (:meth:`frame_sent`), so a slow page
    slows the pictures, not the training."""

    def __init__(self, send, name: str = "glassnet-playground-session"):
        super().__init__(name=name, daemon=True)
        self.send = send
        self.commands: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.frame_free = threading.Event()
        self.frame_free.set()
        self.session: Session | None = None
        self.csv_data = None
        self.playing = False
        self.speed = 6
        self.dirty = False
        self.frames = 0
        self.next_step_at = 0.0
        self.frame_seconds = 0.01  # a running average of what a frame costs

    # called from other threads
    def submit(self, command: dict) -> None:
        self.commands.put(command)

    def frame_sent(self) -> None:
        self.frame_free.set()

    def request_stop(self) -> None:
        """Ask the thread to end (it does within one training slice); returns at once."""
        self.stopping.set()
        self.commands.put({"type": "_wake"})

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread and wait for it (at most ``timeout`` seconds)."""
        self.request_stop()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    # the thread
    def run(self) -> None:
        last_frame = 0.0
        while not self.stopping.is_set():
            self._drain_commands(block=not self.playing and not self.dirty)
            if self.stopping.is_set() or self.session is None:
                continue
            if self.playing:
                self._train_slice()
            now = time.perf_counter()
            if self.dirty and self.frame_free.is_set() and now - last_frame >= FRAME_INTERVAL:
                self._send_frame()
                last_frame = now
            elif self.dirty and not self.playing:
                time.sleep(0.005)

    def _drain_commands(self, block: bool) -> None:
        try:
            command = self.commands.get(timeout=0.1) if block else self.commands.get_nowait()
        except queue.Empty:
            return
        while True:
            try:
                self._handle(command)
            except Exception as e:  # a bad command must not kill the session: tell the page
                self.send({"type": "error", "message": f"{type(e).__name__}: {e}" if not isinstance(
                    e, ValueError) else str(e)})
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return

    def _handle(self, command: dict) -> None:
        kind = command.get("type")
        if kind == "_wake":
            return
        if kind == "config":
            query = command.get("query") or {}
            if not isinstance(query, dict):
                raise ValueError(f"config: expected an object of URL parameters, got {type(query).__name__}")
            base = self.session.config if self.session and command.get("merge") else None
            new = config_module.parse({str(k): str(v) for k, v in query.items()}, base)
            self._build(new)
            self.playing = new.autostart and self.session is not None and not command.get("merge")
            self.speed = new.speed
            return
        if self.session is None and kind in ("play", "step", "reset", "probe", "export"):
            raise ValueError(f"{kind}: no network yet (the setup could not be built)")
        if kind == "play":
            self.playing = True
        elif kind == "pause":
            self.playing = False
        elif kind == "step":
            count = command.get("count", 1)
            if not isinstance(count, int) or not 1 <= count <= 10_000:
                raise ValueError(f"step: count must be an integer from 1 to 10000, got {count!r}")
            self.playing = False
            with COMPUTE_LOCK:
                for _ in range(count):
                    self.session.train_step()
            self.dirty = True
        elif kind == "reset":
            with COMPUTE_LOCK:
                self.session.reset()
            self.playing = False
            self.send(self.session.setup())
            self.dirty = True
        elif kind == "speed":
            value = command.get("value")
            if value not in STEPS_PER_SECOND:
                raise ValueError(f"speed: expected an integer from 1 to 6, got {value!r}")
            self.speed = value
        elif kind == "probe":
            x, y = float(command["x"]), float(command["y"])
            with COMPUTE_LOCK:
                self.send(self.session.probe(x, y))
        elif kind == "export":
            self.send({"type": "export", "code": python_script(self.session)})
        elif kind == "csv":
            text, name = command.get("text"), str(command.get("name") or "data.csv")
            if not isinstance(text, str):
                raise ValueError("csv: expected the file's text")
            self.csv_data = parse_csv(text, name)
            config = self.session.config if self.session else config_module.Config()
            self._build(dataclasses.replace(config, dataset="csv", errors=()))
            self.playing = False
        else:
            raise ValueError(f"unknown command {kind!r} (known: config, play, pause, step, reset, speed, "
                             f"probe, csv, export)")

    def _build(self, config) -> None:
        if config.dataset == "csv" and self.csv_data is None:
            config = dataclasses.replace(config, dataset=config_module.Config.dataset, errors=config.errors + (
                "dataset=csv: choose a CSV file first (x1,x2,label rows); showing the spiral meanwhile",))
        with COMPUTE_LOCK:
            self.session = Session(config, self.csv_data)
        self.send(self.session.setup())
        self.dirty = True

    def _train_slice(self) -> None:
        """Train until the next frame is due (or a command arrives), at most ``cap`` steps per
        second at the slower speeds."""
        cap = STEPS_PER_SECOND[self.speed]
        now = time.perf_counter()
        if cap is not None and now < self.next_step_at:
            time.sleep(min(self.next_step_at - now, 0.02))
            return
        deadline = now + max(MIN_TRAIN_SLICE, TARGET_FRAME_TIME - self.frame_seconds)
        with COMPUTE_LOCK, np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            while now < deadline and self.commands.empty():
                if cap is not None and now < self.next_step_at:
                    break
                self.session.train_step()
                self.dirty = True
                if cap is not None:
                    self.next_step_at = max(self.next_step_at + 1 / cap, now)
                if self.session.diverged():
                    self.playing = False
                    self.send({"type": "error", "message": (
                        f"training stopped: the loss became {self.session.last_loss} at step "
                        f"{self.session.step_count}; lower the learning rate, then reset")})
                    break
                now = time.perf_counter()

    def _send_frame(self) -> None:
        start, cpu = time.perf_counter(), time.thread_time()
        with COMPUTE_LOCK:
            frame = self.session.frame()
        self.frame_seconds = 0.8 * self.frame_seconds + 0.2 * (time.perf_counter() - start)
        frame["render_cpu_ms"] = round(1e3 * (time.thread_time() - cpu), 2)  # this thread's CPU time for it
        frame["playing"] = self.playing
        self.frame_free.clear()
        self.dirty = self.playing
        self.frames += 1
        self.send(frame)


def _json(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


async def session_stream(websocket: WebSocket) -> None:
    """One tab: a Runner thread for the connection's lifetime, stopped and joined when it ends."""
    await websocket.accept()
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue = asyncio.Queue()

    def post(message: dict) -> None:  # called from the runner thread
        try:
            loop.call_soon_threadsafe(outbox.put_nowait, message)
        except RuntimeError:  # the event loop is gone (server stopping): nobody is listening any more
            runner.request_stop()

    runner = Runner(post)
    runners = websocket.app.state.runners
    runners.add(runner)
    runner.start()

    async def forward_messages():
        while True:
            message = await outbox.get()
            await websocket.send_text(_json(message))
            if message.get("type") == "frame":
                runner.frame_sent()

    sender = asyncio.create_task(forward_messages())
    try:
        while True:
            text = await websocket.receive_text()
            try:
                command = json.loads(text)
                if not isinstance(command, dict):
                    raise ValueError(f"a command is a JSON object, got {type(command).__name__}")
            except ValueError as e:
                await websocket.send_text(_json({"type": "error", "message": f"bad command: {e}"}))
                continue
            runner.submit(command)
    except WebSocketDisconnect:
        pass
    finally:
        runner.request_stop()  # first, without awaiting: this code may be running under cancellation
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
            await asyncio.to_thread(runner.join, 5.0)
        runners.discard(runner)


async def index(request):
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def schema(request):
    """The parameters, their defaults and their choices (the page builds its form from this)."""
    defaults = config_module.Config().query()
    choices = {"dataset": config_module.DATASETS, "activation": config_module.ACTIVATIONS,
               "cost": config_module.COSTS, "init": config_module.INITS, "optimizer": config_module.OPTIMIZERS}
    return JSONResponse({"defaults": defaults, "choices": choices,
                         "limits": {"layers": config_module.MAX_LAYERS, "width": config_module.MAX_WIDTH,
                                    "points": config_module.MAX_POINTS}})


async def check_config(request):
    config = config_module.parse(dict(request.query_params))
    return JSONResponse({"config": config.query(), "errors": list(config.errors)})


@contextlib.asynccontextmanager
async def lifespan(app):
    app.state.runners = set()
    yield
    for runner in list(app.state.runners):  # server shutting down: stop every training thread
        runner.stop()


def create_app() -> Starlette:
    """The playground's ASGI app."""
    app = Starlette(routes=[
        Route("/", index),
        Route("/api/schema", schema),
        Route("/api/config", check_config),
        WebSocketRoute("/ws", session_stream),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], lifespan=lifespan)
    app.state.runners = set()
    return app


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> int:
    """Run the playground until Ctrl-C; prints the URL and (unless told not to) opens the browser."""
    import uvicorn

    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}/"
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           ws="websockets-sansio", timeout_graceful_shutdown=3))

    async def announce():
        while not server.started:
            await asyncio.sleep(0.05)
        print(f"glassnet playground: {url}  (Ctrl-C stops it)", flush=True)
        if open_browser:
            import webbrowser
            await asyncio.to_thread(webbrowser.open, url)

    async def main():
        task = asyncio.create_task(announce())
        await server.serve()
        task.cancel()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal
        pass
    left = [runner for runner in app.state.runners if runner.is_alive()]
    if left:
        print(f"glassnet playground: stopped; {len(left)} training thread(s) did not stop in time", flush=True)
        return 1
    print("glassnet playground: stopped (every session's training thread joined)", flush=True)
    return 0
