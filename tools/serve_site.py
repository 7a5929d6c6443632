#!/usr/bin/env python3
"""Serve a built JupyterLite site (default _output/) on 127.0.0.1: `make serve [PORT=8000]` runs this.

A plain static server with explicit MIME types for what Pyodide and JupyterLite fetch (.mjs/.js as JavaScript,
.wasm as application/wasm for streaming compilation, .json, .whl) so it does not depend on the host's
/etc/mime.types. `python3 -m http.server` serves the same site too (on Python 3.11+ with a usual mime.types);
pages opened as file:// do not work (the browser blocks module workers and fetches there).

Every response carries the cross-origin isolation headers (ISOLATION_HEADERS): the pages are then
crossOriginIsolated, so SharedArrayBuffer exists (CPU threads in the wasm kernels, JupyterLite's kernel Interrupt,
the embed's Stop that keeps variables). COEP is require-corp, not credentialless, which WebKit ignores. Everything
the site loads is same-origin, which require-corp allows as is; Cross-Origin-Resource-Policy: cross-origin and
Access-Control-Allow-Origin: * let another origin's page (a blog using embed/embed.js, itself isolated or not)
load the site's scripts, Pyodide and wheels. A host that cannot set headers gets the same isolation from the site's
service worker (jupyterlite_config/cross-origin-isolation*.js); --no-isolation-headers serves like such a host.

  python3 tools/serve_site.py [--dir _output] [--port 8000] [--host 127.0.0.1] [--quiet] [--no-isolation-headers]
  python3 tools/serve_site.py --check-port [--port 8000]   (exit 1 with a message if the port is taken:
                                                            `make serve` runs it before building anything)
"""
import argparse
import errno
import functools
import http.server
import os
import socket
import sys

MIME = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json",
    ".whl": "application/zip", ".zip": "application/zip", ".ipynb": "application/json", ".html": "text/html",
    ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json", ".pt": "application/octet-stream",
}


ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Access-Control-Allow-Origin": "*",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    """A plain static server, as most hosts are (no isolation headers); IsolatedHandler adds them."""
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME}
    quiet = False

    def end_headers(self):
        # A rebuilt site must not be mixed with a cached older one (the service worker fetches through here too).
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        if not self.quiet:
            super().log_message(fmt, *args)


class IsolatedHandler(Handler):
    """The site cross-origin isolated by its host's headers (`make serve`)."""

    def end_headers(self):
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()


def make_server(directory, host="127.0.0.1", port=0, quiet=False, isolation_headers=True):
    """A ThreadingHTTPServer for `directory` (port 0: a free one; read it from server.server_address[1]), with the
    cross-origin isolation headers unless isolation_headers is false (a host that cannot set headers)."""
    base = IsolatedHandler if isolation_headers else Handler
    handler = functools.partial(type("H", (base,), {"quiet": quiet}), directory=os.fspath(directory))
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def port_problem(host, port):
    """Why `port` cannot be served on `host` (a sentence), or None when it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the server binds: TIME_WAIT is no problem
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is in use (another `make serve`?): stop that server, or pick "
                        f"another port: make serve PORT={port + 1}")
            return f"cannot listen on {host}:{port}: {e.strerror}"
    return None


def main():
    ap = argparse.ArgumentParser(description="serve the torch_js JupyterLite site")
    here = os.path.dirname(os.path.abspath(__file__))
    # In the repo: ../_output; copied into the classroom bundle as serve.py: the folder it sits in.
    default_dir = here if os.path.isfile(os.path.join(here, "jupyter-lite.json")) else os.path.join(here, "..", "_output")
    ap.add_argument("--dir", default=default_dir)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--check-port", action="store_true", help="only check that the port is free, then exit")
    ap.add_argument("--no-isolation-headers", action="store_true",
                    help="serve without COOP/COEP, as a host that cannot set headers (the service worker isolates)")
    args = ap.parse_args()
    problem = port_problem(args.host, args.port)
    if problem:
        sys.exit(f"serve_site: {problem}")
    if args.check_port:
        return
    directory = os.path.abspath(args.dir)
    if not os.path.isfile(os.path.join(directory, "jupyter-lite.json")):
        sys.exit(f"serve_site: {directory} is not a built site (run `make site`)")
    server = make_server(directory, args.host, args.port, args.quiet, not args.no_isolation_headers)
    host, port = server.server_address[:2]
    base = f"http://{host}:{port}"
    print(f"torch_js site: {directory}\n"
          f"  JupyterLab:     {base}/lab/index.html\n"
          f"  Notebooks:      {base}/tree/index.html\n"
          f"  Quickstart:     {base}/notebooks/index.html?path=quickstart.ipynb\n"
          f"  Embed demo:     {base}/embed/demo.html\n"
          f"  torch.mjs (JS): {base}/examples/torch_mjs/index.html\n"
          f"  cross-origin isolation: "
          f"{'by this server (COOP/COEP headers)' if not args.no_isolation_headers else 'by the service worker'}\n"
          f"Serving on {base}/ (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
