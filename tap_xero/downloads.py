"""File content downloads, shared by the attachments stream and the Files API's ``files``:
streamed in chunks through SHA-256 (memory stays flat), checked against the listed size and,
with a folder or fsspec URL set, written to a temporary name, read back, and renamed into
place with its SHA-256 beside it, so a re-run finds it there and skips it. docs/apis.md
(Attachments) says how files are named and written."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import IO, Any

from xero_api.errors import XeroError

from .session import ReadSession

__all__ = ["Downloader", "FileStore", "Hashing"]

_CHUNK = 1 << 16
_UNSAFE = re.compile(r"[\\/\x00-\x1f]")


class Hashing:
    """A download sink: SHA-256 and size of what arrives, optionally copied to a file."""

    def __init__(self, target: IO[bytes] | None) -> None:
        self.target = target
        self.reset()

    def reset(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        if self.target is not None:
            self.target.seek(0)
            self.target.truncate()

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        if self.target is not None:
            self.target.write(chunk)


class FileStore:
    """Where downloaded files go: a local folder, or an fsspec URL."""

    def __init__(self, root: str, setting: str) -> None:
        self.root = root.rstrip("/")
        if "://" in root:
            try:
                import fsspec  # type: ignore[import-untyped]
            except ImportError:
                raise XeroError(
                    f"config setting '{setting}': {root} needs fsspec "
                    "(pip install 'singer-xero[attachments]')"
                ) from None
            self.fs: Any = fsspec.filesystem(root.split("://", 1)[0])
        else:
            self.fs = None

    def path(self, *parts: str) -> str:
        """The location of a file under the root (each part made safe as one name)."""
        safe = [_UNSAFE.sub("_", p).lstrip(".") or "_" for p in parts]
        return "/".join([self.root, *safe])

    def known_digest(self, path: str, size: int) -> str | None:
        """The recorded SHA-256 of a file already in place with the expected size, or None."""
        try:
            if self._size(path) != size:
                return None
            with self._open(path + ".sha256", "rb") as handle:
                digest = handle.read().decode("ascii").strip()
        except (FileNotFoundError, OSError):
            return None
        return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None

    def _size(self, path: str) -> int:
        if self.fs is None:
            return os.path.getsize(path)
        return int(self.fs.info(path)["size"])

    def _open(self, path: str, mode: str) -> IO[bytes]:
        if self.fs is None:
            if "w" in mode:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            return open(path, mode)
        if "w" in mode:
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        handle: IO[bytes] = self.fs.open(path, mode)
        return handle

    def temporary(self, path: str) -> tuple[str, IO[bytes]]:
        """A new temporary file beside ``path``, open for writing."""
        temp = f"{path}.part-{uuid.uuid4().hex}"
        return temp, self._open(temp, "wb")

    def read_digest(self, path: str) -> tuple[int, str]:
        """Size and SHA-256 of a written file, read back in chunks."""
        digest, size = hashlib.sha256(), 0
        with self._open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def commit(self, temp: str, path: str, digest: str) -> None:
        """Move a verified file into place, then record its SHA-256 beside it."""
        self._move(temp, path)
        side, side_handle = self.temporary(path + ".sha256")
        with side_handle:
            side_handle.write(digest.encode("ascii") + b"\n")
        self._move(side, path + ".sha256")

    def _move(self, source: str, target: str) -> None:
        if self.fs is None:
            os.replace(source, target)
        else:
            self.fs.mv(source, target)

    def discard(self, temp: str) -> None:
        """Remove a temporary file (a failed or refused download)."""
        try:
            if self.fs is None:
                os.remove(temp)
            else:
                self.fs.rm(temp)
        except (FileNotFoundError, OSError):
            pass


class Downloader:
    """Downloads one stream's files: always through SHA-256, and saved under the folder or
    URL of ``setting`` when the config sets it."""

    def __init__(self, session: ReadSession, config: Any, setting: str) -> None:
        self.session = session
        root = config.get(setting)
        self.files = FileStore(str(root), setting) if root else None

    def fetch(
        self, tenant: str, url: str, size: int, where: tuple[str, ...], what: str
    ) -> tuple[str | None, str]:
        """(where the file is, or None; its SHA-256) of the content at ``url``, downloading
        it unless it is already saved at ``where`` (names under the root) with ``size`` bytes
        (0: not listed). ``what`` names the file in errors."""
        if self.files is None:
            sink = Hashing(None)
            self.session.client.download(url, tenant, sink)
            _check_size(what, sink.size, size)
            return None, sink.digest.hexdigest()
        files = self.files
        path = files.path(tenant, *where)
        known = files.known_digest(path, size)
        if known is not None:
            return path, known
        temp, handle = files.temporary(path)
        try:
            with handle:
                sink = Hashing(handle)
                self.session.client.download(url, tenant, sink)
            _check_size(what, sink.size, size)
            written, digest = files.read_digest(temp)
            if (written, digest) != (sink.size, sink.digest.hexdigest()):
                raise XeroError(
                    f"{what}: the file written at {temp} does not read back as downloaded"
                )
            files.commit(temp, path, digest)
        except BaseException:
            files.discard(temp)
            raise
        return path, digest


def _check_size(what: str, got: int, expected: int) -> None:
    if expected and got != expected:
        raise XeroError(f"{what}: {got} bytes downloaded, Xero lists {expected}")
