"""Static files served compressed and cacheable.

``asset_url("js/charts.js")`` gives ``/static/js/charts.js?v=<first 8 hex of its sha256>``. A
request that carries the file's current version may be cached for a year as immutable: a new
file gets a new URL. Any other request is cached briefly and then revalidated with the ETag.

Text assets (JS, CSS, SVG) are read and gzip-compressed once per process, and again only when
the file changes, then sent compressed to browsers that accept gzip. HTML pages never pass
through here: they carry CSRF tokens, and compressing a secret beside text an attacker can
influence leaks it (BREACH).

A small module rather than a library: Flask sends static files as streamed responses, which
Flask-Compress (1.25) compresses anew on every request, outside its cache and by default not
with gzip; WhiteNoise needs the compressed copies made beforehand and decides caching from the
path alone, so it cannot tell a request with the current ``v`` from one without it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, Response, current_app, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

#: Sent gzip-compressed when accepted; other static files are sent as Flask sends them.
COMPRESSIBLE_SUFFIXES = frozenset({".css", ".js", ".svg"})
#: For a URL that names the file's current version: it never changes.
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
#: For any other URL: reused for five minutes, then revalidated with the ETag.
CACHE_REVALIDATE = "public, max-age=300"
VERSION_LENGTH = 8


@dataclass(frozen=True)
class StaticFile:
    """One static file as read from disk: its digest and, for text assets, its bytes."""

    #: (modification time in ns, size) when read; a different stamp means the file changed.
    stamp: tuple[int, int]
    sha256: str
    #: The bytes plain and gzip-compressed, for compressible files only.
    content: bytes | None
    gzipped: bytes | None

    @classmethod
    def read(cls, path: str, stamp: tuple[int, int]) -> StaticFile:
        with open(path, "rb") as file:
            data = file.read()
        compressible = os.path.splitext(path)[1] in COMPRESSIBLE_SUFFIXES
        return cls(
            stamp=stamp,
            sha256=hashlib.sha256(data).hexdigest(),
            content=data if compressible else None,
            gzipped=gzip.compress(data, compresslevel=9, mtime=0) if compressible else None,
        )

    @property
    def version(self) -> str:
        return self.sha256[:VERSION_LENGTH]

    @property
    def modified(self) -> datetime:
        return datetime.fromtimestamp(self.stamp[0] / 1e9, tz=UTC)


class StaticFileCache:
    """The static files this process has read, each read again only after it changed."""

    def __init__(self) -> None:
        self._files: dict[str, StaticFile] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> StaticFile:
        status = os.stat(path)
        stamp = (status.st_mtime_ns, status.st_size)
        known = self._files.get(path)
        if known is not None and known.stamp == stamp:
            return known
        with self._lock:  # one thread reads and compresses, the others wait for it
            known = self._files.get(path)
            if known is None or known.stamp != stamp:
                known = StaticFile.read(path, stamp)
                self._files[path] = known
            return known


static_files = StaticFileCache()


def register(app: Flask) -> None:
    """Serve the ``static`` endpoint through ``send_static``; offer ``asset_url`` to templates."""
    app.view_functions["static"] = send_static
    app.add_template_global(asset_url)


#: How long ``asset_url`` trusts a version it looked up before looking at the file again.
VERSION_RECHECK_SECONDS = 1.0
#: (static folder, filename) → (when looked up, monotonic; the version then).
_versions: dict[tuple[str, str], tuple[float, str]] = {}


def asset_url(filename: str) -> str:
    """The URL of a static file with its content version, which browsers may keep for a year.

    Every page asks for five of them; the version found is trusted for a second
    (``VERSION_RECHECK_SECONDS``) instead of two ``stat`` calls per asset per page, so a file
    changed while the app runs (in development) gets its new URL within a second."""
    key = (current_app.static_folder, filename)
    now = time.monotonic()
    known = _versions.get(key)
    if known is None or now - known[0] >= VERSION_RECHECK_SECONDS:
        path = static_path(filename)
        if path is None:
            raise LookupError(f"no static file {filename!r} in {current_app.static_folder}")
        known = _versions[key] = (now, static_files.get(path).version)
    return url_for("static", filename=filename, v=known[1])


def static_path(filename: str) -> str | None:
    """The file ``filename`` in the static folder, or None (missing, or outside the folder)."""
    path = safe_join(current_app.static_folder, filename)
    return path if path is not None and os.path.isfile(path) else None


def send_static(filename: str) -> Response:
    """The ``static`` endpoint: Flask's static files plus compression and cache headers."""
    path = static_path(filename)
    if path is None:
        raise NotFound()
    version = request.args.get("v")
    if os.path.splitext(path)[1] in COMPRESSIBLE_SUFFIXES:
        file = static_files.get(path)
        response = compressible_response(file, filename).make_conditional(request)
    else:
        file = static_files.get(path) if version else None
        response = current_app.send_static_file(filename)  # conditional already
    current = file is not None and version == file.version
    response.headers["Cache-Control"] = CACHE_IMMUTABLE if current else CACHE_REVALIDATE
    return response


def compressible_response(file: StaticFile, filename: str) -> Response:
    """The file gzip-compressed if the request accepts gzip, else as it is; with validators."""
    use_gzip = request.accept_encodings["gzip"] > 0
    response = current_app.response_class(
        file.gzipped if use_gzip else file.content,
        mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream",
    )
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    # Each encoding is a representation of its own, so each gets its own strong validator.
    response.set_etag(file.sha256[:32] + ("-gzip" if use_gzip else ""))
    response.last_modified = file.modified
    return response
