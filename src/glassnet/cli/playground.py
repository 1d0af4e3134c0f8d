"""``glassnet playground``: watch a network learn in the browser, trained by glassnet itself.

    glassnet playground                      # http://localhost:8765/ and open the browser
    glassnet playground --port 9000 --no-browser
    open http://localhost:8765/?dataset=spiral&hidden=16,16&activation=relu&lr=0.01&seed=0&autostart=1

Binds 127.0.0.1 unless --host says otherwise. Ctrl-C stops the server.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("playground", help="start the interactive playground (a local web page)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    parser.add_argument("--no-browser", action="store_true", help="print the URL without opening a browser")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be from 1 to 65535, got {args.port}")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from ..playground import serve
    except ImportError as e:
        raise OSError(f"the playground needs Starlette and uvicorn: pip install 'glassnet[playground]' ({e})") from None
    return serve(args.host, args.port, open_browser=not args.no_browser)
