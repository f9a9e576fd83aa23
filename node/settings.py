"""Node settings: a frozen object built from an optional TOML file plus BIBNETZ_* variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DATA_DIR = "bibnetz-data"
ENV_PREFIX = "BIBNETZ_"


class SettingsError(ValueError):
    """A setting is missing, malformed or out of range."""


@dataclass(frozen=True)
class Settings:
    """Everything a node needs to know about its environment; see README "Configuration"."""

    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    node_name: str = "bibnetz"
    allow_private_peers: bool = False
    default_language: str = "de"
    vocab_dir: Path | None = None
    max_inbox_bytes: int = 1_000_000
    signature_window_seconds: int = 3600
    # The inbox spool stores activities in the table once arrivals pause this long, and at
    # the latest this long after the first of a burst (federation/spool.py).
    inbox_settle_seconds: float = 0.05
    inbox_max_delay_seconds: float = 2.0
    delivery_workers: int = 4
    delivery_max_attempts: int = 16
    # POSTs sent whose outcome is not yet committed: more is faster (outcomes are committed
    # in batches of half of it; 64 against 32: ~5 % more deliveries per second, measured),
    # but a crash re-sends up to this many (receivers drop them as duplicates by activity id).
    delivery_max_unrecorded: int = 64
    delivery_poll_seconds: float = 1.0
    delivery_retry_base_seconds: float = 30.0
    delivery_retry_cap_seconds: float = 6 * 3600.0
    host_park_after_seconds: float = 2 * 24 * 3600.0
    host_park_seconds: float = 6 * 3600.0
    key_refetch_interval_seconds: float = 60.0
    actor_cache_seconds: float = 24 * 3600.0
    fetch_max_bytes: int = 2_000_000
    log_level: str = "INFO"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.database_url:
            db_path = (self.data_dir / "bibnetz.sqlite3").resolve()
            object.__setattr__(self, "database_url", f"sqlite+aiosqlite:///{db_path}")
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"public_url must be an http(s) URL, got {self.public_url!r}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"port must be between 1 and 65535, got {self.port}")
        if self.default_language not in ("de", "en"):
            raise SettingsError("default_language must be 'de' or 'en'")

    @property
    def domain(self) -> str:
        """Host (and port, when not default) under which the node's actors live."""
        return urlsplit(self.public_url).netloc

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, kind: str, raw: Any) -> Any:
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _BOOL_TRUE:
                return True
            if text in _BOOL_FALSE:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind in ("Path", "Path | None"):
            return Path(str(raw)).expanduser()
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name!r} has an invalid value {raw!r}") from exc


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from a TOML file, then BIBNETZ_* variables, then explicit overrides.

    Precedence (last wins): defaults < TOML file < environment < overrides.
    Without an explicit file, ``BIBNETZ_CONFIG`` or ``<data_dir>/bibnetz.toml`` is used if present.
    """
    env = os.environ if environ is None else environ
    kinds = {f.name: str(f.type) for f in fields(Settings) if f.name != "extra"}
    values: dict[str, Any] = {}

    env_values: dict[str, Any] = {}
    for name, kind in kinds.items():
        key = ENV_PREFIX + name.upper()
        if key in env:
            env_values[name] = _coerce(name, kind, env[key])

    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
    if config_file is None:
        data_dir = overrides.get("data_dir") or env_values.get("data_dir") or DEFAULT_DATA_DIR
        candidate = Path(data_dir) / "bibnetz.toml"
        if candidate.is_file():
            config_file = candidate
    extra: dict[str, Any] = {}
    if config_file is not None:
        try:
            with open(config_file, "rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise SettingsError(f"config file not found: {config_file}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {config_file} is not valid TOML: {exc}") from exc
        section = raw.get("bibnetz", raw)
        for name, value in section.items():
            if name in kinds:
                values[name] = _coerce(name, kinds[name], value)
            elif not isinstance(value, dict):
                raise SettingsError(f"unknown setting {name!r} in {config_file}")
            else:
                extra[name] = value

    values.update(env_values)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values, extra=extra)
    except TypeError as exc:
        raise SettingsError(str(exc)) from exc
