"""Redaction of values and text (``jido._observe.redact``), property-tested with hypothesis.

Contract (docs/observability.md, "Events"; issue 3): keys such as ``password``, ``token``,
``secret``, ``api_key``, ``authorization`` are masked; long strings are truncated; depth
and size are bounded; ``Bearer``/``Basic`` credentials and ``key=value`` secrets in text are
masked. Redaction is for anything jido logs or reports, so it must never raise and never
change the caller's data.
"""

from __future__ import annotations

import copy
import dataclasses
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The bounds are the module's documented constants (docs/observability.md: "depth and size
# bounded").
from jido._observe.redact import MASK, MAX_DEPTH, MAX_ITEMS, MAX_TEXT, redact, redact_text

MAX_STRING = MAX_TEXT + 64  # a truncated string keeps MAX_TEXT chars plus a short note

SECRET_KEYS = [
    "password",
    "PASSWORD",
    "db_password",
    "passwd",
    "token",
    "access_token",
    "X-Auth-Token",
    "secret",
    "client_secret",
    "api_key",
    "API-KEY",
    "apikey",
    "authorization",
    "Authorization",
    "private_key",
    "credentials",
    "cookie",
    "session_id",
]
PLAIN_KEYS = ["user", "name", "count", "id", "city", "items", "value", "kind", "note"]

settings.register_profile(
    "jido-redact", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = settings.get_profile("jido-redact")

# -- strategies ----------------------------------------------------------------------------------
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=400),
    st.binary(max_size=400),
)
keys = st.one_of(st.sampled_from(SECRET_KEYS + PLAIN_KEYS), st.text(max_size=20), st.integers())


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=30),
        st.lists(children, max_size=30).map(tuple),
        st.dictionaries(keys, children, max_size=30),
    )


nested = st.recursive(leaves, containers, max_leaves=50)
small_nested = st.recursive(leaves, containers, max_leaves=8)

# A secret value is a distinctive token that no other generated data can contain.
SENTINEL_ALPHABET = string.ascii_letters + string.digits
sentinels = st.text(SENTINEL_ALPHABET, min_size=8, max_size=24).map(lambda s: f"SeNtInEl{s}")


@st.composite
def with_secret(draw: st.DrawFn, max_wraps: int = 8) -> tuple[Any, str, list[Any]]:
    """A nested structure with a secret under a secret key at some path.

    Returns (value, sentinel, path): ``path`` lists the keys/indices from the top to the dict
    holding the secret key, so the test can walk the redacted output the same way.
    """
    sentinel = draw(sentinels)
    key = draw(st.sampled_from(SECRET_KEYS))
    secret_value = draw(
        st.sampled_from(
            [sentinel, {"nested": sentinel}, [sentinel], (sentinel, 1), sentinel.encode()]
        )
    )
    holder: dict[Any, Any] = {key: secret_value}
    holder.update(draw(st.dictionaries(st.sampled_from(PLAIN_KEYS), small_nested, max_size=5)))
    value: Any = holder
    path: list[Any] = []
    for _ in range(draw(st.integers(0, max_wraps))):
        kind = draw(st.sampled_from(["list", "tuple", "dict"]))
        if kind == "dict":
            k = draw(st.sampled_from(PLAIN_KEYS))
            siblings = draw(st.dictionaries(st.sampled_from(PLAIN_KEYS), leaves, max_size=3))
            siblings.pop(k, None)
            value = {k: value, **siblings}
            path.insert(0, k)
        else:
            before = draw(st.lists(st.integers(), max_size=MAX_ITEMS - 1))
            after = draw(st.lists(leaves, max_size=3))
            items = [*before, value, *after]
            value = items if kind == "list" else tuple(items)
            path.insert(0, len(before))
    return value, sentinel, path


# -- helpers -------------------------------------------------------------------------------------
def strings_in(value: Any) -> list[str]:
    """Every string value in a redacted structure (values, not keys)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    return []


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list | tuple):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def containers_in(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(c for v in value.values() for c in containers_in(v))]
    if isinstance(value, list | tuple):
        return [value, *(c for v in value for c in containers_in(v))]
    return []


# -- properties ----------------------------------------------------------------------------------
@PROFILE
@given(nested)
def test_never_raises_and_never_mutates(value: Any) -> None:
    before = copy.deepcopy(value)
    redact(value)
    assert value == before


@PROFILE
@given(nested)
def test_output_strings_are_bounded(value: Any) -> None:
    for text in strings_in(redact(value)):
        assert len(text) <= MAX_STRING


@PROFILE
@given(nested)
def test_output_depth_and_size_are_bounded(value: Any) -> None:
    out = redact(value)
    assert depth_of(out) <= MAX_DEPTH
    for container in containers_in(out):
        assert len(container) <= MAX_ITEMS + 1  # the items kept, plus a "... more" marker


@PROFILE
@given(with_secret())
def test_secret_never_appears_in_the_output(case: tuple[Any, str, list[Any]]) -> None:
    value, sentinel, _ = case
    out = redact(value)
    assert sentinel not in repr(out)


@PROFILE
@given(with_secret(max_wraps=MAX_DEPTH - 1))
def test_secret_keys_are_masked_at_any_depth_within_the_limit(
    case: tuple[Any, str, list[Any]],
) -> None:
    value, _, path = case
    out = redact(value)
    node = out
    for step in path:
        node = node[step]
    assert isinstance(node, dict)
    masked = [k for k in node if isinstance(k, str) and k in SECRET_KEYS]
    assert masked
    assert all(node[k] == MASK for k in masked)


@PROFILE
@given(
    st.dictionaries(
        st.sampled_from(PLAIN_KEYS),
        st.one_of(
            st.integers(),
            st.none(),
            st.booleans(),
            st.text(string.ascii_lowercase + string.digits + " ", max_size=60),
        ),
        max_size=9,
    )
)
def test_ordinary_data_passes_through_unchanged(value: dict[str, Any]) -> None:
    assert redact(value) == value


@PROFILE
@given(st.text(max_size=2000), st.integers(min_value=1, max_value=600))
def test_redact_text_is_bounded_by_its_limit(text: str, limit: int) -> None:
    out = redact_text(text, limit=limit)
    assert len(out) <= limit + 64


@PROFILE
@given(sentinels, st.sampled_from(["=", ": ", " = ", ":"]), st.sampled_from(SECRET_KEYS))
def test_redact_text_masks_assignments(sentinel: str, sep: str, key: str) -> None:
    text = f"connect failed ({key}{sep}{sentinel}) retrying"
    out = redact_text(text)
    assert sentinel not in out
    assert MASK in out
    assert out.startswith("connect failed (")


# -- examples: redact ----------------------------------------------------------------------------
def test_redact_example() -> None:
    assert redact({"user": "ada", "password": "hunter2"}) == {"user": "ada", "password": MASK}


def test_redact_masks_whole_subtrees_under_secret_keys() -> None:
    out = redact({"credentials": {"user": "ada", "pin": 1234}, "ok": [1, 2]})
    assert out == {"credentials": MASK, "ok": [1, 2]}


def test_redact_depth_placeholder() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 3):
        deep = {"next": deep}
    out = redact(deep)
    assert depth_of(out) <= MAX_DEPTH
    assert "leaf" not in repr(out)


def test_redact_large_collections_are_capped() -> None:
    out = redact({"items": list(range(1000)), **{f"k{i}": i for i in range(100)}})
    assert len(out) <= MAX_ITEMS + 1
    assert len(out["items"]) <= MAX_ITEMS + 1
    assert out["items"][:3] == [0, 1, 2]


def test_redact_bytes_and_objects_become_safe_text() -> None:
    @dataclasses.dataclass
    class Login:
        user: str
        password: str

    out = redact({"raw": b"password=hunter2", "login": Login("ada", "hunter2")})
    assert "hunter2" not in repr(out)
    assert isinstance(out["raw"], str)
    assert isinstance(out["login"], str)
    assert "ada" in out["login"]


def test_redact_never_raises_on_a_broken_repr() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("repr is broken")

    out = redact({"thing": Broken(), "n": 1})
    assert out["n"] == 1
    assert isinstance(out["thing"], str)


def test_redact_does_not_mutate_input() -> None:
    value = {"password": "x", "nested": [{"token": "y"}], "t": ("a" * 1000,)}
    before = copy.deepcopy(value)
    redact(value)
    assert value == before


# -- examples: redact_text -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("password=hunter2", "hunter2"),
        ("login failed: password=hunter2 user=ada", "hunter2"),
        ("api_key: s3cr3tKey", "s3cr3tKey"),
        ("API-KEY = 'quoted-secret'", "quoted-secret"),
        ('token="dq-secret"', "dq-secret"),
        ("GET /x?user=ada&access_token=abc123&page=2", "abc123"),
        ("client_secret=xyz, next=1", "xyz"),
        ("Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ("sent header bearer abc.def-ghi", "abc.def-ghi"),
        ("Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ],
)
def test_redact_text_masks(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert MASK in out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer tok.en.value", "tok.en.value"),
        ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("bad payload {'user': 'ada', 'password': 'hunter2'}", "hunter2"),
        ('request body {"token": "abc123", "n": 1}', "abc123"),
    ],
    ids=["header-bearer", "assign-basic", "dict-repr", "json"],
)
def test_redact_text_masks_common_shapes_of_leaked_secrets(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_redact_text_keeps_the_key_and_surroundings() -> None:
    assert redact_text("password=hunter2 user=ada") == f"password={MASK} user=ada"
    assert redact_text("token='abc' next") == f"token='{MASK}' next"
    assert redact_text("Bearer abc") == f"Bearer {MASK}"


def test_redact_text_leaves_ordinary_text_alone() -> None:
    text = "user=ada count=3 city: Paris (retrying in 0.5s)"
    assert redact_text(text) == text


def test_redact_text_truncates() -> None:
    out = redact_text("x" * 1000)
    assert out.startswith("x" * MAX_TEXT)
    assert not out.startswith("x" * (MAX_TEXT + 1))
    assert "truncated" in out
    assert len(out) <= MAX_STRING
    short = redact_text("abcdefgh", limit=3)
    assert short.startswith("abc")
    assert "defgh" not in short


def test_redact_text_redacts_before_truncating() -> None:
    text = "a" * (MAX_TEXT - 12) + " password=hunter2-and-more"
    out = redact_text(text)
    assert "hunter2" not in out
    assert "hunt" not in out


def test_short_text_is_not_truncated() -> None:
    text = "y" * MAX_TEXT
    assert redact_text(text) == text
