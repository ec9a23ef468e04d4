"""A real SFTP server for the tests: asyncssh on 127.0.0.1, rooted in a temporary folder,
with a generated host key, password and public-key logins, run in a thread of its own.

``drop_after``: when set, the server aborts the connection once a download has read that many
bytes of a file (a connection lost mid-transfer). ``drop_after_write``: likewise once an
upload has written that many bytes. ``on_write``: called (in the server's thread) with the
path and offset of each write an upload makes, to look at the folder meanwhile."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import asyncssh

USER = "feeds"
PASSWORD = "s3cret-sftp-passw0rd"


class SftpTestServer:
    def __init__(self, root: Path):
        self.root = root
        self.password = PASSWORD
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.drop_after: int | None = None
        self.drop_after_write: int | None = None
        self.on_write = None
        self.drops = 0
        self.logins = 0
        self.opened: dict[int, str] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._listener = None
        self.port = 0

    # Life.

    def start(self) -> SftpTestServer:
        self._thread.start()
        self._listen()
        return self

    def _listen(self) -> None:
        self._listener = asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(10)
        self.port = self._listener.get_port()

    async def _open(self):
        server = self

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                ok = username == USER and password == server.password
                server.logins += ok
                return ok

            def public_key_auth_supported(self):
                return True

            def validate_public_key(self, username, key):
                ok = username == USER and key.public_data == server.client_key.public_data
                server.logins += ok
                return ok

        class Files(asyncssh.SFTPServer):
            def __init__(self, chan):
                super().__init__(chan, chroot=str(server.root).encode())

            def read(self, file_obj, offset, size):
                limit = server.drop_after
                if limit is not None and offset + size > limit:
                    server.drops += 1
                    self.channel.get_connection().abort()
                    raise asyncssh.SFTPFailure("connection dropped by the test")
                return super().read(file_obj, offset, size)

            def open(self, path, pflags, attrs):
                file_obj = super().open(path, pflags, attrs)
                server.opened[id(file_obj)] = path.decode()
                return file_obj

            def write(self, file_obj, offset, data):
                if server.on_write is not None:
                    server.on_write(server.opened.get(id(file_obj)), offset)
                limit = server.drop_after_write
                if limit is not None and offset + len(data) > limit:
                    server.drops += 1
                    self.channel.get_connection().abort()
                    raise asyncssh.SFTPFailure("connection dropped by the test")
                return super().write(file_obj, offset, data)

        return await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            server_factory=Server,
            sftp_factory=Files,
            allow_scp=False,
        )

    def new_host_key(self) -> None:
        """Start again on the same port with another host key (a server replaced, or a spoof)."""
        self._close_listener()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._listen()

    def _close_listener(self) -> None:
        async def close():
            self._listener.close()
            await self._listener.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)

    def stop(self) -> None:
        self._close_listener()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    # Facts for the tests.

    @property
    def fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    @property
    def client_key_text(self) -> str:
        return self.client_key.export_private_key("openssh").decode()

    def write(self, relative: str, content: bytes, mtime: int | None = None) -> Path:
        import os

        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def append(self, relative: str, content: bytes, mtime: int | None = None) -> Path:
        import os

        path = self.root / relative
        with open(path, "ab") as out:
            out.write(content)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path
