"""A package index and conda channel served over HTTP on 127.0.0.1, whose index (the PEP
503 pages under /simple/, a channel's repodata) can be made unreachable while the package
files stay downloadable: what a lock file is taken in with, and what proves that taking it
in asked no index anything.

    with serve(folder) as server:
        uv lock --default-index {server.url}/simple ...
        server.index_down()
        ... take the lock in ...
        assert not server.index_requests
"""

from __future__ import annotations

import contextlib
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List

_INDEX_FILES = ("repodata.json", "current_repodata.json", "repodata.json.zst",
                "repodata.json.bz2", "repodata_shards.msgpack.zst")


def is_index_path(path: str) -> bool:
    path = path.split("?", 1)[0]
    return path.startswith("/simple") or path.rsplit("/", 1)[-1] in _INDEX_FILES


class IndexServer:
    def __init__(self, httpd: ThreadingHTTPServer):
        self.httpd = httpd
        self.url = "http://127.0.0.1:%d" % httpd.server_address[1]
        self.index_up = True
        self.requests: List[str] = []
        self.index_requests: List[str] = []  # index paths asked for while it was down

    def index_down(self):
        self.index_up = False
        self.index_requests.clear()

    def index_back(self):
        self.index_up = True


def _handler(folder: Path, server_ref):
    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            server = server_ref[0]
            server.requests.append(self.path)
            if is_index_path(self.path) and not server.index_up:
                server.index_requests.append(self.path)
                self.send_error(503, "index made unreachable by the test")
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    return functools.partial(Handler, directory=str(folder))


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[IndexServer]:
    ref = [None]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Path(folder), ref))
    ref[0] = server = IndexServer(httpd)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
