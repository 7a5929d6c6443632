"""torch.hub in torch_js: the cache directory (get_dir/set_dir, TORCH_HOME / XDG_CACHE_HOME as in PyTorch), files
already in the cache (load_state_dict_from_url finds <hub>/checkpoints/<file name> as PyTorch would after its
download) and local hub repositories (load(dir, model, source="local") runs its hubconf.py). Nothing is fetched:
a notebook kernel (Pyodide) has no network access of its own, so a download raises an error that says so."""
import importlib.util
import os
import sys
from urllib.parse import urlparse

from .serialization import load as load_checkpoint

__all__ = ["get_dir", "set_dir", "load", "list", "help", "load_state_dict_from_url", "download_url_to_file"]

_hub_dir = None
_HUBCONF = "hubconf.py"


def get_dir():
    if _hub_dir is not None:
        return _hub_dir
    torch_home = os.getenv("TORCH_HOME")
    if torch_home is None:
        torch_home = os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")
    return os.path.join(os.path.expanduser(torch_home), "hub")


def set_dir(d):
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _offline(what, url):
    return RuntimeError(f"torch.hub.{what}: cannot download {url}: torch_js has no network access (a notebook "
                        "kernel in the browser cannot open connections). Put the file in the hub cache "
                        f"({get_dir()}) or load it from a local path with torch.load.")


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    raise _offline("download_url_to_file", url)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=False):
    """The checkpoint for url from the hub cache (model_dir, default <hub>/checkpoints), loaded with torch.load;
    a file not in the cache would need a download, which raises."""
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    filename = file_name or os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        raise _offline("load_state_dict_from_url", url)
    return load_checkpoint(cached_file, map_location=map_location, weights_only=weights_only)


def _load_local_hubconf(repo_dir):
    path = os.path.join(repo_dir, _HUBCONF)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, repo_dir)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(repo_dir)
    return module


def _entry(hub_module, model):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    func = getattr(hub_module, model, None)
    if func is None or not callable(func):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return func


def _repo_dir(what, repo_or_dir, source):
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        raise _offline(what, f"https://github.com/{repo_or_dir}")
    return repo_or_dir


def load(repo_or_dir, model, *args, source="github", trust_repo=None, force_reload=False, verbose=True,
         skip_validation=False, **kwargs):
    hub_module = _load_local_hubconf(_repo_dir("load", repo_or_dir, source))
    return _entry(hub_module, model)(*args, **kwargs)


def list(github, force_reload=False, skip_validation=False, trust_repo=None, verbose=True):  # noqa: A001
    hub_module = _load_local_hubconf(_repo_dir("list", github, "github"))
    return [f for f in dir(hub_module) if callable(getattr(hub_module, f)) and not f.startswith("_")]


def help(github, model, force_reload=False, skip_validation=False, trust_repo=None):  # noqa: A001
    return _entry(_load_local_hubconf(_repo_dir("help", github, "github")), model).__doc__
