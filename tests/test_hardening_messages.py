"""What messages, reprs and span events may carry (issue 8, defect 9).

Contract (decisions.md, last bullet; README, "What `.message` may contain"): ``.message``
carries jido's own text and the action's exception text with secret-looking values
masked; it never carries a param or context value that jido put there itself. Text
redaction masks ``Authorization`` credentials whatever the scheme and quoted values with
spaces; OpenTelemetry ``exception`` events are redacted like messages; a failed plan's
error ``repr`` does not show the completed steps' results.
"""

from __future__ import annotations

import string
import uuid
from typing import Annotated, Any, Literal

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jido
import jido.telemetry
from jido._observe.redact import MASK, redact_text

PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SENTINEL = st.text(string.ascii_letters + string.digits, min_size=6, max_size=16).map(
    lambda s: f"SeCrEt{s}"
)


# -- ValidationError.message -----------------------------------------------------------------------
class Cat(pydantic.BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(pydantic.BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Shapes(pydantic.BaseModel):
    pet: Annotated[Cat | Dog, pydantic.Field(discriminator="kind")] | None = None
    count: int = 0
    when: pydantic.AwareDatetime | None = None
    ident: uuid.UUID | None = None
    scores: dict[str, int] = {}
    email: str = ""

    @pydantic.field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and "@" not in value:
            raise ValueError(f"not an email: {value}, password={value}")
        return value


class Shaped(jido.Action):
    name = "shaped"
    schema = Shapes

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {}


@st.composite
def bad_params(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    secret = draw(SENTINEL)
    field = draw(st.sampled_from(["pet", "count", "when", "ident", "scores", "key"]))
    params: dict[str, Any] = {
        "pet": {"kind": secret},
        "count": secret,
        "when": secret,
        "ident": secret,
        "scores": {secret: "x"},
        "key": {secret: 1},
    }
    if field == "key":
        return {draw(st.sampled_from([7, 7.5, (1, 2)])): secret}, secret
    return {field: params[field]}, secret


@PROFILE
@given(bad_params())
def test_a_validation_message_never_quotes_a_param_value(case: tuple[dict[str, Any], str]) -> None:
    params, secret = case
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Shaped, params, timeout=0)
    assert secret not in info.value.message
    assert info.value.details["attempts"] == 0


def test_the_union_tag_is_masked_and_the_expected_tags_kept() -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Shaped, {"pet": {"kind": "hunter2"}}, timeout=0)
    message = info.value.message
    assert "hunter2" not in message
    assert "pet:" in message
    assert "'cat', 'dog'" in message
    assert info.value.details["errors"][0]["type"] == "union_tag_invalid"


def test_a_validator_text_is_kept_with_secrets_masked() -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Shaped, {"email": "nope"}, timeout=0)
    message = info.value.message
    assert "email: Value error, not an email" in message
    assert f"password={MASK}" in message


def test_a_non_string_key_is_named_by_its_type() -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Shaped, {12345: "x"}, timeout=0)
    assert "12345" not in info.value.message
    assert "key of type int" in info.value.message


def test_a_mapping_key_from_the_input_ends_the_path_in_the_message() -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Shaped, {"scores": {"hunter2": "x"}}, timeout=0)
    assert "hunter2" not in info.value.message
    assert "scores: Input should be a valid integer" in info.value.message
    assert info.value.details["field"] == "scores.hunter2"  # the full path is in details


def test_every_pydantic_message_that_quotes_the_input_is_masked() -> None:
    from pydantic_core._pydantic_core import list_all_errors

    from jido._action.schema import _MASKED, _USER_TEXT

    quoting = {
        e["type"]
        for e in list_all_errors()
        if any(f"{{{k}}}" in e["message_template_python"] for k in _INPUT_KEYS)
    }
    assert quoting <= set(_MASKED) | _USER_TEXT


_INPUT_KEYS = ("error", "tag", "encoding_error", "tz_actual")


def test_a_schema_validator_that_raises_something_else_is_a_validation_error() -> None:
    class Strict(pydantic.BaseModel):
        n: int

        @pydantic.field_validator("n")
        @classmethod
        def _n(cls, value: int) -> int:
            raise TypeError("token=abc123 is not allowed")

    class Uses(jido.Action):
        schema = Strict

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {}

    with pytest.raises(jido.ValidationError) as info:
        jido.run(Uses, {"n": 1}, timeout=0)
    assert "TypeError" in info.value.message
    assert "abc123" not in info.value.message


# -- text redaction --------------------------------------------------------------------------------
SCHEMES = ["Token", "Bearer", "Basic", "Digest", "token", "ApiKey", "Custom", "X"]


@PROFILE
@given(
    st.sampled_from(["Authorization", "authorization", "Proxy-Authorization", "auth"]),
    st.sampled_from([": ", "=", ":", " = "]),
    st.sampled_from(SCHEMES),
    SENTINEL,
)
def test_authorization_credentials_are_masked_whatever_the_scheme(
    key: str, sep: str, scheme: str, secret: str
) -> None:
    out = redact_text(f"request failed: {key}{sep}{scheme} {secret} (retrying)")
    assert secret not in out
    assert out.startswith("request failed: ")


@PROFILE
@given(
    st.sampled_from(["password", "api_key", "token", "client_secret", "passphrase"]),
    st.sampled_from(["=", ": ", " = ", "'key': ", '"key": ']),
    st.sampled_from(["'", '"']),
    st.lists(SENTINEL, min_size=2, max_size=4).map(" ".join),
)
def test_quoted_values_with_spaces_are_masked_whole(
    key: str, sep: str, quote: str, secret: str
) -> None:
    words = secret.split()
    pair = sep.replace("key", key) if "key" in sep else f"{key}{sep}"  # a dict repr, JSON
    out = redact_text(f"login failed {pair}{quote}{secret}{quote} user=ada")
    assert not any(word in out for word in words), out
    assert out.endswith("user=ada")


def test_the_issue_reproducers_are_masked() -> None:
    assert redact_text("Authorization: Token X") == f"Authorization: Token {MASK}"
    assert redact_text("password='a b'") == f"password='{MASK}'"
    assert redact_text("authorization=s3cr3t user=ada") == f"authorization={MASK} user=ada"


# -- OpenTelemetry exception events ----------------------------------------------------------------
def test_span_exception_events_and_status_are_redacted() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @jido.action
    def leaky() -> dict[str, Any]:
        raise ValueError("login failed: password=hunter2 Authorization: Token tok-123")

    @jido.action
    def own_error() -> dict[str, Any]:
        raise jido.ExecutionError("api_key=key-456 rejected", retryable=False)

    jido.telemetry.instrument(provider)
    try:
        for action in (leaky, own_error):
            with pytest.raises(jido.ExecutionError):
                jido.run(action, timeout=0, max_retries=0)
    finally:
        jido.telemetry.uninstrument()
    spans = exporter.get_finished_spans()
    assert spans
    text = " ".join(
        f"{span.status.description} "
        + " ".join(str(v) for event in span.events for v in event.attributes.values())
        for span in spans
    )
    for secret in ("hunter2", "tok-123", "key-456"):
        assert secret not in text
    events = [e for span in spans for e in span.events if e.name == "exception"]
    assert events
    assert events[0].attributes["exception.type"] == "ValueError"
    assert "Traceback" in events[0].attributes["exception.stacktrace"]
    assert MASK in events[0].attributes["exception.message"]


# -- reprs -----------------------------------------------------------------------------------------
def test_a_failed_plan_error_repr_does_not_show_completed_results() -> None:
    @jido.action
    def fetch() -> dict[str, Any]:
        return {"card": "4111-1111-1111-1111"}

    @jido.action
    def charge(card: str) -> dict[str, Any]:
        raise jido.ExecutionError("declined", retryable=False)

    plan = jido.Plan().add("fetch", fetch).add("charge", charge, depends_on="fetch")
    with pytest.raises(jido.ExecutionError) as info:
        plan.run()
    error = info.value
    assert error.details["results"] == {"fetch": {"card": "4111-1111-1111-1111"}}
    assert "4111" not in repr(error)
    assert "'results': <dict of 1>" in repr(error)
    assert "4111" not in repr(plan)


def test_error_repr_never_fails_and_is_bounded() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    error = jido.ExecutionError("x" * 10_000, details={"thing": Hostile(), "n": 10**5000})
    text = repr(error)
    assert len(text) < 1000
    assert "Hostile>" in text
    assert "<int of about 5001 digits>" in text
