"""Store URLs and their resolution: explicit, then $JIDO_STORE, then none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jido
from jido._store import parse_store_url, resolve_store_url


@pytest.mark.parametrize(
    ("url", "dialect", "path"),
    [
        ("sqlite:///runs.db", "sqlite", "runs.db"),
        ("sqlite:///.jido/runs.db", "sqlite", ".jido/runs.db"),
        ("sqlite:////var/lib/jido/runs.db", "sqlite", "/var/lib/jido/runs.db"),
        ("SQLite:///runs.db", "sqlite", "runs.db"),
        ("sqlite:///:memory:", "sqlite", ":memory:"),
        ("postgresql://app:secret@db.internal:5432/jido", "postgresql", None),
        ("postgres://app@db/jido", "postgresql", None),
        ("postgresql://postgres:@/postgres?host=/tmp/pg", "postgresql", None),
        ("postgresql:///jido", "postgresql", None),
    ],
)
def test_valid_urls(url: str, dialect: str, path: str | None) -> None:
    parsed = parse_store_url(url)
    assert (parsed.dialect, parsed.path, parsed.url) == (dialect, path, url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "runs.db",
        "/abs/runs.db",
        "mysql://db/jido",
        "sqlite://",
        "sqlite:///",
        "sqlite://host/runs.db",
        "sqlite:///runs.db?mode=ro",
        "sqlite:///dir/",
        "postgresql://db:notaport/jido",
        "postgresql://db/jido#frag",
    ],
)
def test_invalid_urls_are_one_line_config_errors(url: str) -> None:
    with pytest.raises(jido.ConfigError) as info:
        parse_store_url(url)
    assert "\n" not in str(info.value)


def test_a_non_string_is_a_config_error() -> None:
    with pytest.raises(jido.ConfigError, match="must be a string"):
        parse_store_url(42)  # type: ignore[arg-type]


@given(st.text())
def test_any_text_parses_or_is_a_config_error(text: str) -> None:
    message = ""
    try:
        parsed = parse_store_url(text)
    except jido.ConfigError as exc:
        message = str(exc)
    else:
        assert parsed.dialect in ("sqlite", "postgresql")
    assert "\n" not in message  # one line: the URL is shown as its repr


path_chars = st.characters(blacklist_characters="?#/\x00", blacklist_categories=("Cs",))


@given(st.lists(st.text(path_chars, min_size=1, max_size=8), min_size=1, max_size=4), st.booleans())
def test_sqlite_paths_round_trip(parts: list[str], absolute: bool) -> None:
    path = ("/" if absolute else "") + "/".join(parts)
    assert parse_store_url(f"sqlite:///{path}").path == path


def test_a_password_is_not_shown() -> None:
    parsed = parse_store_url("postgresql://app:s3cret@db:5432/jido")
    assert "s3cret" not in str(parsed)
    assert "s3cret" not in parsed.redacted()
    assert parsed.redacted() == "postgresql://app:***@db:5432/jido"


def test_resolution_order() -> None:
    env = {"JIDO_STORE": "sqlite:///from-env.db"}
    assert resolve_store_url("sqlite:///explicit.db", env).path == "explicit.db"  # type: ignore[union-attr]
    assert resolve_store_url(None, env).path == "from-env.db"  # type: ignore[union-attr]
    assert resolve_store_url(None, {}) is None
    assert resolve_store_url(None, {"JIDO_STORE": "  "}) is None


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(jido.ConfigError, match=r"^\$JIDO_STORE: "):
        resolve_store_url(None, {"JIDO_STORE": "redis://x"})


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIDO_STORE", "sqlite:///env.db")
    assert resolve_store_url(None).path == "env.db"  # type: ignore[union-attr]
