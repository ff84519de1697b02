"""Credentials from the environment, the JWT as the emulator sees it, renewal, and 401/403 handling."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import jwt
import pytest
from kore_support import CANARY_SECRET, Emulator, FakeClock, RecordingRedactor, Sleeps, fingerprint, sms_body

from campaign_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from campaign_sync.errors import AuthError, CredentialsError
from campaign_sync.kore import Credentials, KoreClient
from campaign_sync.kore.auth import TokenSource
from campaign_sync.manifests.config import AuthSettings
from campaign_sync.redact import Redactor

WITH_TOKEN = AuthSettings(tokenEnv="KORE_JWT")


# ---------------------------------------------------------------- credentials from the environment


def test_missing_secret_names_the_variable_and_shows_no_value() -> None:
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_environment(AuthSettings(), {"KORE_CLIENT_ID": "cs-my-client-id-value"}, Redactor())
    message = str(caught.value)
    assert message.startswith("set KORE_CLIENT_SECRET (the client secret of your Kore.ai JWT app)")
    assert "KORE_CLIENT_ID" not in message
    assert "cs-my-client-id-value" not in message


def test_missing_both_names_both_and_the_token_alternative() -> None:
    auth = AuthSettings(clientIdEnv="ACME_ID", clientSecretEnv="ACME_SECRET", tokenEnv="ACME_JWT")
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_environment(auth, {"ACME_SECRET": ""}, Redactor())
    message = str(caught.value)
    assert "set ACME_ID (the client id of your Kore.ai JWT app) and ACME_SECRET" in message
    assert "or ACME_JWT with a ready JWT" in message


def test_a_short_secret_is_refused_without_showing_it() -> None:
    environ = {"KORE_CLIENT_ID": "cs-1", "KORE_CLIENT_SECRET": "short-secret-value"}
    with pytest.raises(CredentialsError, match="KORE_CLIENT_SECRET is shorter than 32 bytes") as caught:
        Credentials.from_environment(AuthSettings(), environ, Redactor())
    assert "short-secret-value" not in str(caught.value)


def test_the_secret_is_registered_and_never_in_repr() -> None:
    redactor = RecordingRedactor()
    creds = Credentials.from_environment(
        AuthSettings(), {"KORE_CLIENT_ID": "cs-1", "KORE_CLIENT_SECRET": CANARY_SECRET}, redactor
    )
    assert CANARY_SECRET in redactor.added
    assert redactor.scrub(f"x{CANARY_SECRET}x") == "x***x"
    assert CANARY_SECRET not in repr(creds)
    assert CANARY_SECRET not in str(creds)
    assert not creds.static


def test_token_env_wins_over_client_credentials_when_set() -> None:
    redactor = RecordingRedactor()
    environ = {
        "KORE_JWT": "eyJhbGciOi.ready.token",
        "KORE_CLIENT_ID": "cs-1",
        "KORE_CLIENT_SECRET": CANARY_SECRET,
    }
    creds = Credentials.from_environment(WITH_TOKEN, environ, redactor)
    assert creds.static
    assert creds.token == "eyJhbGciOi.ready.token"
    assert "eyJhbGciOi.ready.token" in redactor.added
    assert "ready.token" not in repr(creds)
    unset = Credentials.from_environment(WITH_TOKEN, {**environ, "KORE_JWT": ""}, redactor)
    assert not unset.static


# ---------------------------------------------------------------- the token on the wire


def test_the_emulator_sees_an_hs256_token_with_the_documented_claims(
    client: KoreClient, emu: Emulator, redactor: RecordingRedactor
) -> None:
    client.list_campaigns("sms")
    client.list_campaigns("voice")

    first, second = emu.journal()
    claims = first["jwt"]
    assert claims["appId"] == DEFAULT_CLIENT_ID
    assert claims["sub"] == "campaign-sync"
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert abs(claims["iat"] - time.time()) < 60
    assert "jti" not in claims, "a jti is accepted only once; the token is reused"
    assert second["jwt"] == claims
    assert second["headers"]["auth"] == first["headers"]["auth"], "one token for many requests"
    (token,) = set(redactor.tokens)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert first["headers"]["auth"] == fingerprint(token)


def test_the_token_is_renewed_when_less_than_a_minute_remains(
    make_client: Callable[..., KoreClient], emu: Emulator, redactor: RecordingRedactor
) -> None:
    clock = FakeClock(1000.0)
    wall = FakeClock(float(int(time.time())))
    client = make_client(clock=clock, wall_clock=wall)

    client.list_campaigns("sms")
    clock.advance(200)
    wall.advance(200)
    client.list_campaigns("sms")  # 100 s left: same token
    clock.advance(41)
    wall.advance(41)
    emu.settings(clockOffset=241)  # keep the emulator's clock with ours
    client.list_campaigns("sms")  # 59 s left: renewed

    journal = emu.journal()
    iats = [e["jwt"]["iat"] for e in journal]
    assert iats == [wall.now - 241, wall.now - 241, wall.now]
    prints = [e["headers"]["auth"] for e in journal]
    assert prints[0] == prints[1] != prints[2]
    assert all(e["status"] == 200 for e in journal)
    assert len(set(redactor.tokens)) == 2, "every minted token is registered with the redactor"


def test_a_ready_token_is_used_verbatim_and_never_renewed(
    make_client: Callable[..., KoreClient], emu: Emulator, redactor: RecordingRedactor
) -> None:
    token = jwt.encode({"sub": "ci", "appId": DEFAULT_CLIENT_ID}, DEFAULT_CLIENT_SECRET, algorithm="HS256")
    clock = FakeClock(0.0)
    client = make_client(auth=WITH_TOKEN, environ={"KORE_JWT": token}, clock=clock)

    client.list_campaigns("sms")
    clock.advance(100_000)
    client.list_campaigns("sms")

    journal = emu.journal()
    assert [e["headers"]["auth"] for e in journal] == [fingerprint(token)] * 2
    assert journal[0]["jwt"] == {"sub": "ci", "appId": DEFAULT_CLIENT_ID}
    assert set(redactor.tokens) == {token}, "nothing was minted"


def test_concurrent_requests_share_one_minted_token() -> None:
    redactor = RecordingRedactor()
    creds = Credentials(client_id="cs-1", client_secret=CANARY_SECRET)
    source = TokenSource(creds, redactor, clock=time.monotonic, wall_clock=time.time)
    barrier = threading.Barrier(8)
    tokens: list[str] = []

    def worker() -> None:
        barrier.wait()
        tokens.append(source.current())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(tokens)) == 1
    assert len(redactor.tokens) == 1, "minted once"


# ---------------------------------------------------------------- 401 and 403


def _ticking_wall() -> Callable[[], float]:
    """A wall clock one second later on every read, so each minted token differs."""
    start = int(time.time())
    ticks = itertools.count()
    return lambda: float(start + next(ticks))


def test_a_401_gets_one_remint_and_one_retry(
    make_client: Callable[..., KoreClient], emu: Emulator, redactor: RecordingRedactor, sleeps: Sleeps
) -> None:
    client = make_client(wall_clock=_ticking_wall())
    emu.fault(method="GET", statuses=[401])
    cid = emu.seed([sms_body("Remint")])["Remint"]

    assert client.get_campaign(cid)["name"] == "Remint"

    first, second = emu.journal()
    assert (first["status"], second["status"]) == (401, 200)
    assert first["headers"]["auth"] != second["headers"]["auth"], "the retry carries a new token"
    assert len(redactor.tokens) == 2
    assert sleeps.calls == [], "no backoff before the re-minted retry"


def test_a_token_rejected_twice_is_an_auth_error_naming_the_variables_and_scope(
    make_client: Callable[..., KoreClient], emu: Emulator, sleeps: Sleeps
) -> None:
    wrong = {
        "KORE_CLIENT_ID": DEFAULT_CLIENT_ID,
        "KORE_CLIENT_SECRET": "a-wrong-secret-that-is-long-enough-0000",
    }
    client = make_client(environ=wrong, wall_clock=_ticking_wall())

    with pytest.raises(AuthError) as caught:
        client.list_campaigns("sms")

    message = str(caught.value)
    assert "KORE_CLIENT_ID / KORE_CLIENT_SECRET" in message
    assert '"Campaign Management"' in message
    assert "invalid signature" in message  # the server's own words
    assert caught.value.status == 401
    assert "a-wrong-secret" not in message
    assert [e["status"] for e in emu.journal()] == [401, 401]
    assert sleeps.calls == []


def test_a_rejected_ready_token_is_not_retried(make_client: Callable[..., KoreClient], emu: Emulator) -> None:
    token = jwt.encode({"sub": "ci", "appId": "someone-else"}, DEFAULT_CLIENT_SECRET, algorithm="HS256")
    client = make_client(auth=WITH_TOKEN, environ={"KORE_JWT": token})

    with pytest.raises(AuthError, match="the token in KORE_JWT") as caught:
        client.list_campaigns("sms")

    assert token not in str(caught.value)
    assert [e["status"] for e in emu.journal()] == [401]


def test_403_names_the_campaign_management_scope_and_is_not_retried(
    client: KoreClient, emu: Emulator, sleeps: Sleeps
) -> None:
    emu.fault(statuses=[403], body={"errors": [{"msg": "Access denied for this app", "code": 403}]})

    with pytest.raises(AuthError) as caught:
        client.list_campaigns("voice")

    message = str(caught.value)
    assert '"Campaign Management" API scope' in message
    assert "Access denied for this app" in message
    assert caught.value.status == 403
    assert len(emu.journal()) == 1
    assert sleeps.calls == []


def test_one_remint_per_call_even_across_retries(
    make_client: Callable[..., KoreClient], emu: Emulator, redactor: RecordingRedactor, sleeps: Sleeps
) -> None:
    client = make_client(wall_clock=_ticking_wall())
    emu.fault(method="POST", statuses=[401, 503, 401, 200], times=4)

    with pytest.raises(AuthError, match="re-minted once"):
        client.list_campaigns("sms")

    assert [e["status"] for e in emu.journal()] == [401, 503, 401]
    assert len(redactor.tokens) == 2, "the first mint and exactly one re-mint"
    assert len(sleeps.calls) == 1, "the 503 was retried; the second 401 was final"
