"""torch.torch_version.TorchVersion: the str that torch.__version__ is, comparing as a PEP 440 version against
strings ("2.0"), tuples ((2, 1)) and other versions, as PyTorch's does. The parser is torch_js's own (the
`packaging` module may be absent in the browser): release, pre-, post- and dev-release and local label, ordered
as PEP 440 orders them."""
import re

__all__ = ["TorchVersion", "InvalidVersion", "parse_version"]

_PATTERN = re.compile(
    r"^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>\d*))?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d*))?"
    r"(?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$", re.IGNORECASE)
_PRE_NAMES = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "c": "rc", "pre": "rc", "preview": "rc", "rc": "rc"}
_LOW, _HIGH = (-1,), (1,)     # sort before / after any present segment (present ones are (0, ...))


class InvalidVersion(ValueError):
    pass


def parse_version(text):
    """A key that orders versions as PEP 440 does."""
    m = _PATTERN.match(text)
    if m is None:
        raise InvalidVersion(f"Invalid version: '{text}'")
    release = [int(p) for p in m.group("release").split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    pre = (0, _PRE_NAMES[m.group("pre_l").lower()], int(m.group("pre_n") or 0)) if m.group("pre_l") else None
    post_n = m.group("post_n1") or (m.group("post_n2") if m.group("post_l") else None)
    post = (0, int(post_n or 0)) if (m.group("post_n1") or m.group("post_l")) else _LOW
    dev = (0, int(m.group("dev_n") or 0)) if m.group("dev_l") else _HIGH
    if pre is None:
        pre = _LOW if (post is _LOW and dev is not _HIGH) else _HIGH   # 1.0.dev0 < 1.0a0 < 1.0
    local = _LOW
    if m.group("local"):
        local = (0,) + tuple((1, int(p), "") if p.isdigit() else (0, 0, p.lower())
                             for p in re.split(r"[-_.]", m.group("local")))
    return (int(m.group("epoch") or 0), tuple(release), pre, post, dev, local)


class TorchVersion(str):
    """A version string that compares (<, <=, ==, >=, >) as a version with strings, tuples ((2, 1) is "2.1") and
    versions, falling back to str's comparison for what is not a version (as PyTorch's)."""
    __slots__ = ()

    def _compare(self, other, method):
        try:
            if isinstance(other, str):
                theirs = parse_version(other)
            elif isinstance(other, (tuple, list)):
                theirs = parse_version(".".join(str(p) for p in other))
            else:
                raise InvalidVersion(other)
            return getattr(parse_version(str(self)), method)(theirs)
        except InvalidVersion:
            return getattr(str, method)(self, other)

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __eq__(self, other):
        return self._compare(other, "__eq__")

    __hash__ = str.__hash__
