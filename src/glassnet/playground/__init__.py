"""The playground: watch glassnet itself learn a 2-D data set in the browser.

``glassnet playground`` (or :func:`serve`) starts a local web server; every tab is a
:class:`~glassnet.playground.session.Session` that trains a real glassnet model while the page
draws its decision regions, neurons, histograms and curves. Needs ``glassnet[playground]``
(Starlette and uvicorn).

Modules: ``config`` (the setup and its URL form), ``datasets`` (generated sets, CSV files),
``session`` (model, training step, what the views show), ``export`` ("copy as Python"),
``server`` (the ASGI app and the per-tab training threads).
"""

from .config import Config, ConfigError, parse
from .datasets import CSVError, parse_csv
from .session import Session

__all__ = ["CSVError", "Config", "ConfigError", "Session", "create_app", "parse", "parse_csv", "serve"]


def create_app():
    """The ASGI app (imports Starlette only when asked for)."""
    from .server import create_app as create
    return create()


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> int:
    """Serve the playground until Ctrl-C; see :func:`glassnet.playground.server.serve`."""
    from .server import serve as run
    return run(host, port, open_browser)
