"""The API fields of an SFTP log-in (``SftpLogin``: host, port, user, password or key, the
trusted host key), shared by SFTP sources and scheduled exports. Secrets are write-only:
answers say only whether one is stored."""

from typing import Literal

from ninja import Field, Schema

from tend.lib.api_schemas import Strict

AuthName = Literal["password", "key"]


class LoginOut(Schema):
    host: str
    port: int
    username: str
    auth_method: AuthName
    has_password: bool = Field(..., description="A password is stored (it is never shown).")
    has_private_key: bool = Field(..., description="A private key is stored (it is never shown).")
    host_key_fingerprint: str = Field(
        ..., description="SHA256 fingerprint trusted on first connection; empty until then."
    )


class LoginIn(Strict):
    host: str = Field(..., max_length=255)
    port: int = Field(22, ge=1, le=65535)
    username: str = Field(..., max_length=255)
    auth_method: AuthName = "password"
    password: str | None = Field(None, description="Write-only.")
    private_key: str | None = Field(
        None, description="Write-only; an unencrypted OpenSSH or PEM private key."
    )


class LoginPatch(Strict):
    host: str | None = Field(None, max_length=255)
    port: int | None = Field(None, ge=1, le=65535)
    username: str | None = Field(None, max_length=255)
    auth_method: AuthName | None = None
    password: str | None = None
    private_key: str | None = None
    trust_new_host_key: bool | None = Field(
        None, description="Forget the stored host key: the next connection trusts the key it meets."
    )
