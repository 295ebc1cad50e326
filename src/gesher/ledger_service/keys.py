"""The ledger's secret keys, kept in files readable by the server's user only (issue 6: "generated at
`gesher init`, stored with restrictive permissions, rotatable").

- `ledger.skey`: the Ed25519 key that signs checkpoints, in the C2SP signed-note private key encoding. Its
  public half (the vkey partners verify with) is also kept in the store's `ledger_keys` table, so every
  worker and host knows which keys the ledger has used; hosts sharing one PostgreSQL need a copy of the file.
- `canary.key`: 32 random bytes (hex) behind the per-recipient canary indicators of leak tracing. It never
  rotates with the signing key: old leaks must stay traceable.

Files are created with O_EXCL and mode 0600 in a 0700 directory; a key file others can read is refused."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from gesher.errors import ConfigurationError
from gesher.ledger.checkpoint import Signer, generate_signer, parse_skey
from gesher.ledger.errors import LedgerError
from gesher.settings import Settings

SIGNING_KEY = "ledger.skey"
CANARY_KEY = "canary.key"


def key_dir(settings: Settings) -> Path:
    return settings.ledger_key_dir or settings.data_dir / "keys"


def _write_secret(path: Path, text: str) -> None:
    """Create `path` holding `text`, readable and writable by the owner only; never overwrite a key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text + "\n")


def _read_secret(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(f"{path} is readable by others (mode {oct(mode & 0o777)}): chmod 600 it")
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigurationError(
            f"the ledger key {path} is missing: run `gesher init` on this host"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read the ledger key {path}: {error}") from None


def ensure_keys(settings: Settings, name: str) -> Signer:
    """The signing key, created with the canary key when absent (idempotent; `gesher init`)."""
    folder = key_dir(settings)
    if not (folder / SIGNING_KEY).exists():
        _write_secret(folder / SIGNING_KEY, generate_signer(name).skey)
    if not (folder / CANARY_KEY).exists():
        _write_secret(folder / CANARY_KEY, secrets.token_hex(32))
    return load_signer(settings)


def load_signer(settings: Settings) -> Signer:
    path = key_dir(settings) / SIGNING_KEY
    try:
        return parse_skey(_read_secret(path))
    except LedgerError as error:
        raise ConfigurationError(f"the ledger key {path} is not a signing key: {error.description}") from None


def load_canary_key(settings: Settings) -> bytes:
    path = key_dir(settings) / CANARY_KEY
    try:
        key = bytes.fromhex(_read_secret(path))
    except ValueError:
        raise ConfigurationError(f"the canary key {path} is not hex") from None
    if len(key) < 32:
        raise ConfigurationError(f"the canary key {path} is shorter than 32 bytes")
    return key


def replace_signer(settings: Settings, name: str) -> tuple[Signer, Path]:
    """Write a new signing key in place of the current one, which is kept as `ledger.skey.<key id>.retired`
    (signatures it made stay verifiable through its vkey in the store). Returns the new key and where the
    old one went."""
    folder = key_dir(settings)
    old = load_signer(settings)
    retired = folder / f"{SIGNING_KEY}.{old.verifier.key_id.hex()}.retired"
    os.replace(folder / SIGNING_KEY, retired)
    new = generate_signer(name)
    _write_secret(folder / SIGNING_KEY, new.skey)
    return new, retired


def restore_signer(settings: Settings, retired: Path) -> None:
    """Undo `replace_signer` (the rotation could not be recorded): the retired key is current again."""
    os.replace(retired, key_dir(settings) / SIGNING_KEY)
