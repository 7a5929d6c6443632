"""A checkpoint's zip archive, read without trusting it.

Every member's declared size is checked before anything is inflated: a stored member must store exactly what it
declares, a deflated one may declare at most MAX_RATIO times its compressed size (above a small floor), and all the
members together at most TOTAL_FACTOR times the archive's own length (plus TOTAL_SLACK), so a small file cannot
claim gigabytes (one member or many, overlapping entries included). Reads go through zipfile's bounded reader,
asked for the declared size only, and a member that inflates to other than it declared is refused. Errors are
RuntimeError worded like PyTorch's reader ("PytorchStreamReader failed reading zip archive: ...").
"""
import io
import struct
import zipfile
import zlib

MAX_MEMBERS = 1 << 20           # torch writes one record per storage and a handful of others
MAX_RATIO = 100                 # a deflated member inflates to at most this many times its compressed size ...
RATIO_FLOOR = 1 << 20           # ... unless it declares no more than this (small members compress extremely well)
TOTAL_FACTOR = 4                # all members together: at most TOTAL_FACTOR x the archive's length ...
TOTAL_SLACK = 64 << 20          # ... plus this

# what zipfile raises on a damaged archive
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error, zlib.error,
               UnicodeDecodeError, IndexError, KeyError, NotImplementedError, OverflowError)


def _damaged(what, err):
    return RuntimeError(f"torch_js.load: PytorchStreamReader failed reading {what}: {err}. The checkpoint file is "
                        "damaged, truncated or not a checkpoint")


class Archive:
    """The members of a zip archive held in memory, their declared sizes checked up front."""

    def __init__(self, data):
        self.size = len(data)
        try:
            self._zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zf.infolist()
        except _ZIP_ERRORS as e:
            raise _damaged("zip archive", e) from None
        if len(infos) > MAX_MEMBERS:
            raise RuntimeError(f"torch_js.load: the archive has {len(infos)} members, more than the {MAX_MEMBERS} a "
                               "checkpoint may have")
        total = 0
        for info in infos:
            self._check_member(info)
            total += info.file_size
        cap = TOTAL_FACTOR * self.size + TOTAL_SLACK
        if total > cap:
            raise RuntimeError(f"torch_js.load: the archive's members declare {total} bytes in all, more than a "
                               f"{self.size}-byte archive may inflate to ({cap} bytes): refusing a zip bomb")
        self.names = [info.filename for info in infos]
        self._names = set(self.names)

    def _check_member(self, info):
        name = info.filename
        if info.flag_bits & 0x1:
            raise RuntimeError(f"torch_js.load: archive member {name!r} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise RuntimeError(f"torch_js.load: stored archive member {name!r} declares {info.file_size} bytes "
                                   f"but stores {info.compress_size}")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > max(info.compress_size * MAX_RATIO, RATIO_FLOOR):
                raise RuntimeError(f"torch_js.load: archive member {name!r} declares {info.file_size} bytes from "
                                   f"{info.compress_size} compressed bytes, a compression ratio over {MAX_RATIO}:1: "
                                   "refusing a zip bomb")
        else:
            raise RuntimeError(f"torch_js.load: archive member {name!r} uses compression method "
                               f"{info.compress_type}; checkpoints are stored or deflated")
        if info.header_offset + info.compress_size > self.size:
            raise _damaged(f"file {name}", f"it extends past the end of the {self.size}-byte archive")

    def __contains__(self, name):
        return name in self._names

    def file_size(self, name):
        return self._zf.getinfo(name).file_size

    def read(self, name):
        """The member's bytes: exactly its declared size, never more (a bounded read)."""
        try:
            info = self._zf.getinfo(name)
        except KeyError:
            raise RuntimeError(f"torch_js.load: PytorchStreamReader failed locating file {name}: file not "
                               "found") from None
        try:
            with self._zf.open(info) as fp:
                out = fp.read(info.file_size)      # zipfile never inflates past the declared size
        except _ZIP_ERRORS + (RuntimeError,) as e:
            raise _damaged(f"file {name}", e) from None
        if len(out) != info.file_size:
            raise _damaged(f"file {name}", f"it inflates to {len(out)} bytes, not the {info.file_size} it declares")
        return out
