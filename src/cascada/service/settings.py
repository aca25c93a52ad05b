"""Service settings: one dataclass, read from the environment once, passed explicitly."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024


def _secret_key(home: Path) -> str:
    """The key signing sessions: read from ``HOME/secret_key``, created (0600) if missing."""
    path = home / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


@dataclass
class Settings:
    """Where the service keeps its data and how it behaves.

    home: data folder (projects, uploads, run folders, the SQLite database).
    database_url: SQLAlchemy URL; default SQLite ``HOME/cascada.sqlite``.
    max_upload_bytes: the largest accepted upload, bytes.
    max_unpacked_bytes: the most an uploaded archive may unpack to, bytes.
    max_zip_ratio: the largest unpacked/packed ratio of an archive (zip bombs).
    max_jobs: runs executing at once (each is a worker subprocess).
    start_jobs: start the job runner with the app (tests switch it off).
    login_attempts / login_window_s: failed logins per user and client before 429.
    session_hours: lifetime of a login session, hours.
    secure_cookies: mark the session cookie Secure (behind HTTPS).
    """

    home: Path = field(default_factory=lambda: Path("cascada-data"))
    database_url: str = ""
    secret_key: str = ""
    max_upload_bytes: int = 200 * MIB
    max_unpacked_bytes: int = 1024 * MIB
    max_zip_ratio: float = 100.0
    max_jobs: int = 2
    start_jobs: bool = True
    login_attempts: int = 5
    login_window_s: float = 300.0
    session_hours: float = 12.0
    secure_cookies: bool = False
    poll_interval_s: float = 0.5

    def __post_init__(self) -> None:
        self.home = Path(self.home).resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'cascada.sqlite'}"
        if not self.secret_key:
            self.secret_key = _secret_key(self.home)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings from ``CASCADA_*`` environment variables, then ``overrides``."""
        env = os.environ
        values: dict = {}
        if "CASCADA_HOME" in env:
            values["home"] = Path(env["CASCADA_HOME"])
        if "CASCADA_DATABASE_URL" in env:
            values["database_url"] = env["CASCADA_DATABASE_URL"]
        if "CASCADA_SECRET_KEY" in env:
            values["secret_key"] = env["CASCADA_SECRET_KEY"]
        if "CASCADA_MAX_UPLOAD_MB" in env:
            values["max_upload_bytes"] = int(float(env["CASCADA_MAX_UPLOAD_MB"]) * MIB)
        if "CASCADA_MAX_JOBS" in env:
            values["max_jobs"] = int(env["CASCADA_MAX_JOBS"])
        if "CASCADA_SECURE_COOKIES" in env:
            values["secure_cookies"] = env["CASCADA_SECURE_COOKIES"] not in ("", "0", "false")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def projects_dir(self) -> Path:
        return self.home / "projects"

    def project_dir(self, project_id: str) -> Path:
        return self.projects_dir / project_id
