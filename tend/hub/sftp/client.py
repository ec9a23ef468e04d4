"""A synchronous SFTP client over ``asyncssh`` for job bodies and views.

asyncssh is asynchronous and the ORM is not, so a :class:`Connection` runs its own event
loop in a helper thread and every method waits for one coroutine there with a bound: the
caller's code between calls (database reads and writes) stays ordinary synchronous Django.

Rules every connection follows:

* **Addresses**: the host is resolved once and each address checked with the outgoing
  rules (``tend.lib.outgoing.targets``: no loopback, private, link-local or metadata
  addresses unless ``TEND_OUTGOING_ALLOW`` names them); the connection goes to the checked
  address, so a second DNS answer cannot redirect it.
* **Host keys, trust on first use**: with no stored fingerprint, any key is accepted and its
  SHA-256 fingerprint handed back for the caller to store; with one, a server presenting
  another key is refused during the key exchange — before any password or key is sent —
  with :class:`HostKeyChanged`. Nothing is read from or written to ``~/.ssh``.
* **Time**: connecting and logging in are bounded (``CONNECT_TIMEOUT``), each read of a
  download must make progress within ``STALL_TIMEOUT``, and a whole download within a
  deadline that grows with the file's size; an upload's every write must be taken within
  ``STALL_TIMEOUT`` (plus time for its size) and the whole upload end within ``deadline``.
* **Uploads are atomic**: written to ``.<name>.part`` beside the final name and renamed
  over it only once complete, so a reader of the folder never sees half a file; an upload
  that fails removes its part file if the connection still allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import posixpath
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from tend.lib.outgoing.targets import allow_list_from_settings, refusal_for_address

# asyncssh logs every connection and channel at INFO; a poll every few minutes per source
# would fill the log with them. Its warnings and errors still show.
logging.getLogger("asyncssh").setLevel(logging.WARNING)

CONNECT_TIMEOUT = 20.0
STALL_TIMEOUT = 30.0
CALL_TIMEOUT = 60.0
CHUNK = 256 * 1024
# A download may take this long plus a second per MIN_RATE bytes.
DOWNLOAD_BASE_SECONDS = 60.0
MIN_RATE = 64 * 1024


class SftpError(Exception):
    """A problem talking to the server, said so a person can act on it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class HostKeyChanged(SftpError):
    pass


class Gone(SftpError):
    """The file was there when listed and is not any more (renamed or deleted meanwhile)."""


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    mtime: int
    is_file: bool


@dataclass(frozen=True)
class Download:
    size: int
    sha256: str


@dataclass(frozen=True)
class Upload:
    path: str
    size: int
    seconds: float


# An upload may take this long in all, unless the caller says otherwise.
UPLOAD_DEADLINE = 3 * 60 * 60.0


def part_name(name: str) -> str:
    """The temporary name an upload is written under (hidden, so loaders skip it)."""
    return f".{name}.part"


@dataclass(frozen=True)
class Credentials:
    host: str
    port: int
    username: str
    password: str = ""
    private_key: str = ""
    fingerprint: str = ""


def parse_private_key(text: str):
    """The key, or SftpError naming the problem (passphrase-protected keys are not kept)."""
    try:
        return asyncssh.import_private_key(text.strip() + "\n")
    except asyncssh.KeyEncryptionError:
        raise SftpError("the key is protected by a passphrase; paste an unencrypted key") from None
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise SftpError(f"not a private key in OpenSSH or PEM form ({exc})") from None


class _Client(asyncssh.SSHClient):
    def __init__(self, expected: str):
        self.expected = expected
        self.presented = ""

    def validate_host_public_key(self, host, addr, port, key) -> bool:
        self.presented = key.get_fingerprint("sha256")
        return not self.expected or self.presented == self.expected


async def _checked_address(host: str, port: int) -> str:
    """Resolve ``host`` and return an address the outgoing rules allow (or raise)."""
    allow = allow_list_from_settings()
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise SftpError(
            f"could not resolve {host}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    refusals = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        reason = refusal_for_address(ip)
        if reason is None or allow.allows_address(ip) or allow.allows_host(host.lower()):
            return str(ip)
        refusals.append(f"{ip} ({reason})")
    raise SftpError(
        f"{host} resolves to {', '.join(refusals)}, which Tend does not connect to; a self-hoster "
        "can allow it with TEND_OUTGOING_ALLOW"
    )


def describe(exc: BaseException, creds: Credentials) -> str:
    where = f"{creds.host}:{creds.port}"
    if isinstance(exc, SftpError):
        return exc.message
    if isinstance(exc, asyncssh.PermissionDenied):
        what = "private key" if creds.private_key else "password"
        return f"authentication failed: {where} refused the user name {creds.username!r} with this {what}"
    if isinstance(exc, asyncssh.SFTPNoSuchFile):
        return f"no such file or folder on {where}: {exc.reason}"
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return f"permission denied on {where}: {exc.reason}"
    if isinstance(exc, asyncssh.SFTPError):
        return f"the SFTP server at {where} answered: {exc.reason}"
    if isinstance(exc, asyncssh.ConnectionLost | asyncssh.DisconnectError):
        return f"the connection to {where} was lost: {exc.reason or type(exc).__name__}"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"{where} did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return f"could not connect to {where}: connection refused"
    if isinstance(exc, OSError):
        return f"could not connect to {where}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


class Connection:
    """One SSH connection with its SFTP session; use as a context manager."""

    def __init__(self, creds: Credentials):
        self.creds = creds
        self.fingerprint = ""  # of the host key the server presented
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tend-sftp", daemon=True
        )
        self._conn = None
        self._sftp = None

    def _call(self, coro, timeout: float):
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self._loop)
        try:
            return future.result(timeout + 5)
        except Exception as exc:
            future.cancel()
            if isinstance(exc, SftpError):
                raise
            raise SftpError(describe(exc, self.creds)) from exc

    def __enter__(self) -> Connection:
        self._thread.start()
        try:
            self._call(self._open(), CONNECT_TIMEOUT)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    async def _open(self):
        creds = self.creds
        address = await _checked_address(creds.host, creds.port)
        client = _Client(creds.fingerprint)
        options = {
            "port": creds.port,
            "username": creds.username,
            "known_hosts": ([], [], []),
            "client_factory": lambda: client,
            "agent_path": None,
            "config": None,
            "connect_timeout": CONNECT_TIMEOUT,
            "login_timeout": CONNECT_TIMEOUT,
            "keepalive_interval": 15,
            "keepalive_count_max": 2,
        }
        if creds.private_key:
            options.update(
                client_keys=[parse_private_key(creds.private_key)],
                password=None,
                preferred_auth="publickey",
            )
        else:
            options.update(
                client_keys=None,
                password=creds.password,
                preferred_auth="password,keyboard-interactive",
            )
        try:
            self._conn = await asyncssh.connect(address, **options)
        except asyncssh.HostKeyNotVerifiable:
            if client.presented and client.expected and client.presented != client.expected:
                raise HostKeyChanged(
                    f"the host key of {creds.host}:{creds.port} changed: Tend trusted {client.expected} "
                    f"and the server now presents {client.presented}. Nothing was sent. If the server's "
                    "key was replaced on purpose, choose “Trust a new host key” in the source's settings."
                ) from None
            raise
        self.fingerprint = client.presented
        self._sftp = await self._conn.start_sftp_client()

    def close(self) -> None:
        async def _close():
            if self._sftp is not None:
                self._sftp.exit()
            if self._conn is not None:
                self._conn.close()
                await self._conn.wait_closed()

        if self._thread.is_alive():
            # Closing a connection that already broke may fail: it is gone either way.
            with contextlib.suppress(Exception):
                future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(_close(), 5), self._loop)
                future.result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()

    # Operations.

    def listdir(self, folder: str) -> list[Entry]:
        async def _list():
            entries = []
            for name in await self._sftp.readdir(folder):
                if name.filename in (".", ".."):
                    continue
                attrs = name.attrs
                is_file = attrs.permissions is not None and stat.S_ISREG(attrs.permissions)
                entries.append(
                    Entry(name.filename, attrs.size or 0, int(attrs.mtime or 0), is_file)
                )
            return entries

        return self._call(_list(), CALL_TIMEOUT)

    def download(
        self,
        path: str,
        dest: Path,
        *,
        size: int,
        limit: int,
        progress: Callable[[int], None] | None = None,
    ) -> Download:
        """Stream ``path`` into ``dest``, hashing as it goes; ``dest`` is removed on any error."""

        async def _get():
            digest = hashlib.sha256()
            done = 0
            async with self._sftp.open(path, "rb") as remote:
                with open(dest, "wb") as out:
                    while True:
                        block = await asyncio.wait_for(remote.read(CHUNK, done), STALL_TIMEOUT)
                        if not block:
                            break
                        done += len(block)
                        if done > limit:
                            raise SftpError(
                                f"{path} is larger than the import limit of {limit} bytes"
                            )
                        digest.update(block)
                        out.write(block)
            return Download(done, digest.hexdigest())

        deadline = DOWNLOAD_BASE_SECONDS + size / MIN_RATE
        try:
            return self._call(_get(), deadline)
        except SftpError as exc:
            dest.unlink(missing_ok=True)
            if isinstance(exc.__cause__, asyncssh.SFTPNoSuchFile):
                raise Gone(exc.message) from exc
            raise
        except BaseException:
            dest.unlink(missing_ok=True)
            raise

    def rename(self, source: str, target: str) -> None:
        self._call(self._sftp.rename(source, target), CALL_TIMEOUT)

    def exists(self, path: str) -> bool:
        return self._call(self._sftp.exists(path), CALL_TIMEOUT)

    def makedirs(self, path: str) -> None:
        self._call(self._sftp.makedirs(path, exist_ok=True), CALL_TIMEOUT)

    def remove(self, path: str) -> None:
        self._call(self._sftp.remove(path), CALL_TIMEOUT)

    def upload(
        self,
        chunks: Iterable[bytes],
        folder: str,
        name: str,
        *,
        deadline: float = UPLOAD_DEADLINE,
    ) -> Upload:
        """Write ``chunks`` to ``folder/.<name>.part``, then rename it to ``folder/name``
        (replacing a file of that name). The chunks are produced here, in the caller's thread
        (they may read the database), and each is written with its own bound. On any error
        the part file is removed if possible and the error raised: no final file appears."""
        started = time.monotonic()
        target = posixpath.join(folder, name)
        part = posixpath.join(folder, part_name(name))
        done = 0
        try:
            remote = self._call(self._sftp.open(part, "wb"), CALL_TIMEOUT)
            try:
                for block in chunks:
                    if not block:
                        continue
                    if time.monotonic() - started > deadline:
                        raise SftpError(
                            f"the upload of {target} to {self.creds.host} took longer than "
                            f"{int(deadline)} seconds and was given up"
                        )
                    self._call(remote.write(block, done), STALL_TIMEOUT + len(block) / MIN_RATE)
                    done += len(block)
            finally:
                with contextlib.suppress(Exception):
                    self._call(remote.close(), CALL_TIMEOUT)
            self._replace(part, target)
        except BaseException:
            with contextlib.suppress(Exception):
                self._call(self._sftp.remove(part), 10)
            raise
        return Upload(target, done, time.monotonic() - started)

    def _replace(self, part: str, target: str) -> None:
        """Rename atomically over an existing file where the server can (OpenSSH's
        posix-rename); otherwise remove the old file first, then rename."""

        async def _rename():
            try:
                await self._sftp.posix_rename(part, target)
            except asyncssh.SFTPOpUnsupported:
                if await self._sftp.exists(target):
                    await self._sftp.remove(target)
                await self._sftp.rename(part, target)

        self._call(_rename(), CALL_TIMEOUT)
