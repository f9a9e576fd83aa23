"""Settings: defaults, TOML file, environment precedence and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.settings import Settings, SettingsError, load_settings


def test_defaults_use_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/bibnetz.sqlite3"
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.allow_private_peers is False


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('port = 9000\npublic_url = "https://file.example"\nnode_name = "Aus Datei"\n')
    settings = load_settings(
        config,
        environ={"BIBNETZ_PUBLIC_URL": "https://env.example/", "BIBNETZ_ALLOW_PRIVATE_PEERS": "1"},
    )
    assert settings.port == 9000
    assert settings.node_name == "Aus Datei"
    assert settings.public_url == "https://env.example"
    assert settings.allow_private_peers is True
    assert settings.domain == "env.example"


def test_config_in_data_dir_is_found(tmp_path: Path) -> None:
    (tmp_path / "bibnetz.toml").write_text('[bibnetz]\nnode_name = "Verbund"\n')
    assert load_settings(environ={"BIBNETZ_DATA_DIR": str(tmp_path)}).node_name == "Verbund"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BIBNETZ_PORT": "eighty"}, "'port' has an invalid value"),
        ({"BIBNETZ_ALLOW_PRIVATE_PEERS": "maybe"}, "allow_private_peers"),
        ({"BIBNETZ_PUBLIC_URL": "ftp://x"}, "public_url must be an http(s) URL"),
        ({"BIBNETZ_PORT": "70000"}, "port must be between"),
    ],
)
def test_bad_values_name_the_setting(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ=environ)


def test_unknown_setting_in_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "x.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        load_settings(config, environ={})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
