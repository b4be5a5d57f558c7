"""What a peer program trusts and who it is, as files on disk (PEM, and an NSS database)."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

from ._process import PeerError, _run_tool

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.DOTALL)


@dataclasses.dataclass(frozen=True)
class NSSDatabase:
    """An NSS certificate database for selfserv/tstclnt (empty password)."""

    directory: Path
    nickname: str | None  # the identity's certificate and key, when there is one

    @property
    def spec(self) -> str:
        return f"sql:{self.directory}"


class PeerFiles:
    """What an external program trusts and who it is, as files in ``directory``.

    ``ca_file`` holds the certificates to trust (PEM).  With an identity,
    ``cert_file`` is its leaf, ``chain_file`` the leaf and intermediates and
    ``key_file`` its unencrypted PKCS#8 key.  :meth:`nss_database` makes the
    NSS form of the same on first use.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        ca_pem: bytes,
        chain_pem: bytes | None = None,
        key_pem: bytes | None = None,
        nickname: str = "tlsapi-peer",
    ) -> None:
        if (chain_pem is None) != (key_pem is None):
            raise ValueError("an identity needs both chain_pem and key_pem")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.nickname = nickname
        self.ca_file = self.directory / "ca.pem"
        self.ca_file.write_bytes(ca_pem)
        self.cert_file: Path | None = None
        self.chain_file: Path | None = None
        self.key_file: Path | None = None
        if chain_pem is not None and key_pem is not None:
            certificates = _PEM_CERT.findall(chain_pem)
            if not certificates:
                raise ValueError("chain_pem holds no PEM certificate")
            self.cert_file = self.directory / "cert.pem"
            self.cert_file.write_bytes(certificates[0])
            self.chain_file = self.directory / "chain.pem"
            self.chain_file.write_bytes(chain_pem)
            self.key_file = self.directory / "key.pem"
            self.key_file.write_bytes(key_pem)
            self.key_file.chmod(0o600)
        self._nss: NSSDatabase | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_pki(
        cls, directory: str | os.PathLike[str], pki: Any, identity: Any = None
    ) -> PeerFiles:
        """Files trusting ``pki``'s root, for ``identity`` (a tlsapi.testing.pki.Identity)."""
        if identity is None:
            return cls(directory, ca_pem=pki.root_pem)
        return cls(
            directory, ca_pem=pki.root_pem, chain_pem=identity.chain_pem, key_pem=identity.key_pem
        )

    @property
    def has_identity(self) -> bool:
        return self.key_file is not None

    def identity_files(self) -> tuple[Path, Path, Path]:
        """(cert, chain, key); PeerError when these files hold no identity."""
        if self.cert_file is None or self.chain_file is None or self.key_file is None:
            raise PeerError(f"{self.directory} holds no certificate and key")
        return self.cert_file, self.chain_file, self.key_file

    def nss_database(self) -> NSSDatabase:
        """The NSS database for these files, made on first use."""
        with self._lock:
            if self._nss is None:
                self._nss = _make_nss_database(self)
            return self._nss


def _make_nss_database(files: PeerFiles) -> NSSDatabase:
    directory = files.directory / "nssdb"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    spec = f"sql:{directory}"
    _run_tool(["certutil", "-N", "-d", spec, "--empty-password"])
    # certutil -A takes one certificate per call; "C" trusts for servers, "T" for clients.
    for index, pem in enumerate(_PEM_CERT.findall(files.ca_file.read_bytes())):
        _run_tool(
            ["certutil", "-A", "-d", spec, "-n", f"tlsapi-ca-{index}", "-t", "CT,C,C"],
            stdin=pem,
        )
    nickname = None
    if files.has_identity:
        nickname = files.nickname
        p12 = files.directory / "identity.p12"
        password = "tlsapi-test"
        p12.write_bytes(_pkcs12(files, nickname, password.encode()))
        _run_tool(["pk12util", "-i", str(p12), "-d", spec, "-W", password])
    return NSSDatabase(directory, nickname)


def _pkcs12(files: PeerFiles, nickname: str, password: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    _, chain_file, key_file = files.identity_files()
    certificates = x509.load_pem_x509_certificates(chain_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    kinds = (
        rsa.RSAPrivateKey,
        dsa.DSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
    )
    if not isinstance(key, kinds):
        raise PeerError(f"{key_file}: a {type(key).__name__} cannot go into PKCS#12")
    return pkcs12.serialize_key_and_certificates(
        nickname.encode(),
        key,
        certificates[0],
        certificates[1:],
        serialization.BestAvailableEncryption(password),
    )
