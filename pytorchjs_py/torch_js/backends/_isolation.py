"""Whether the page running torch_js is cross-origin isolated: the condition for SharedArrayBuffer in a browser, which
CPU threads in the wasm build and the notebook's Interrupt need (the site's server headers or its service worker
give it: tools/serve_site.py, jupyterlite_config/cross-origin-isolation*.js).

Read from the JavaScript global of the thread Python runs on (in the site, the kernel's Web Worker, whose
crossOriginIsolated is the page's). Outside a browser (CPython, Pyodide in Node) there is no page to isolate and
shared memory needs nothing: cross_origin_isolated() is None there.
"""
import sys

# the line torch_js prints where it reports threads, on a page that is not isolated
NOT_ISOLATED = ("this page is not cross-origin isolated, so SharedArrayBuffer is missing and the CPU kernels run on "
                "one thread: serve the site with the headers Cross-Origin-Opener-Policy: same-origin and "
                "Cross-Origin-Embedder-Policy: require-corp, or open it where its service worker can isolate it "
                "(https:// or localhost, not a private window)")


def cross_origin_isolated():
    """True or False in a browser (the page's crossOriginIsolated), None elsewhere (CPython, Node)."""
    if sys.platform != "emscripten":
        return None
    import js  # type: ignore  (exists only in Pyodide)
    flag = getattr(js, "crossOriginIsolated", None)   # undefined in Node, which has no pages
    return None if flag is None else bool(flag)


def shared_memory_available():
    """Whether threads can share memory here: natively always; in Pyodide, where SharedArrayBuffer exists."""
    if sys.platform != "emscripten":
        return True
    import js  # type: ignore
    return getattr(js, "SharedArrayBuffer", None) is not None


def describe():
    """One line for a report: 'yes', 'not a browser page (...)', or NOT_ISOLATED."""
    isolated = cross_origin_isolated()
    if isolated is None:
        return "not a browser page (shared memory needs no isolation here)"
    return "yes" if isolated else f"no: {NOT_ISOLATED}"
