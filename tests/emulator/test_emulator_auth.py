"""The ``auth`` JWT and the required headers (reference §1.4, §2)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from emulator_support import ACCOUNT, STREAM, Kore, errors, fresh_token, sms_advanced, token

from campaign_sync.emulator import DEFAULT_CLIENT_SECRET, EmulatorServer, create_app


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _get(kore: Kore, auth: str | None, **headers: str) -> Any:
    sent = {"iid": STREAM, "accountId": ACCOUNT, **headers}
    if auth is not None:
        sent["auth"] = auth
    return kore.http.post(f"{kore.v2}/getAllCampaignDetails", headers=sent, json={"type": "sms"})


def test_documented_token_recipe_is_accepted(kore: Kore) -> None:
    assert _get(kore, token()).status_code == 200


def test_token_with_iat_exp_and_jti_is_accepted(kore: Kore) -> None:
    assert _get(kore, fresh_token()).status_code == 200


NOW = int(time.time())
REJECTED = [
    ("wrong secret", token(secret="another-secret-that-is-long-enough-0123456789"), "invalid signature"),
    ("wrong appId", token({"appId": "someone-else"}), '"appId" claim does not match'),
    (
        "appid spelled in lower case",
        token({"appId": None, "appid": "campaign-sync-emulator"}),
        '"appId" claim',
    ),
    (
        "alg none",
        _b64({"alg": "none", "typ": "JWT"}) + "." + _b64({"appId": "campaign-sync-emulator"}) + ".",
        "'none'",
    ),
    ("HS512", token(secret=DEFAULT_CLIENT_SECRET + "x" * 40, algorithm="HS512"), "'HS512' is not allowed"),
    ("RS256 header", _b64({"alg": "RS256", "typ": "JWT"}) + "." + _b64({"appId": "x"}) + ".c2ln", "'RS256'"),
    ("expired", token({"exp": NOW - 3600}), "token has expired"),
    ("not yet valid", token({"nbf": NOW + 3600}), "not yet valid"),
    ("garbage", "not-a-jwt", "malformed token"),
    (
        "jti with a two-hour life",
        token({"jti": "a", "iat": NOW, "exp": NOW + 7200}),
        '"exp" must be <= 1 hour(s)',
    ),
    ("jti without exp", token({"jti": "b"}), 'if "jti" claim "exp" must be <= 1 hour(s)'),
]


@pytest.mark.parametrize(("auth", "reason"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_bad_tokens_are_rejected_with_401(kore: Kore, auth: str, reason: str) -> None:
    response = _get(kore, auth)
    assert response.status_code == 401
    [message] = errors(response)
    assert message.startswith("error verifying the jwt: ")
    assert reason in message


def test_missing_auth_header_is_401(kore: Kore) -> None:
    response = _get(kore, None)
    assert response.status_code == 401
    assert errors(response) == ["error verifying the jwt: no token in the auth header"]


def test_expiry_has_30_seconds_of_leeway(kore: Kore) -> None:
    assert _get(kore, token({"exp": int(time.time()) - 10})).status_code == 200


def test_expiry_follows_the_emulator_clock(kore: Kore) -> None:
    auth = token({"exp": int(time.time()) + 300})
    assert _get(kore, auth).status_code == 200
    kore.advance(600)
    response = _get(kore, auth)
    assert response.status_code == 401
    assert errors(response) == ["error verifying the jwt: token has expired"]


def test_a_reused_jti_is_a_replay(kore: Kore) -> None:
    now = int(time.time())
    auth = token({"jti": str(uuid.uuid4()), "iat": now, "exp": now + 60})
    assert _get(kore, auth).status_code == 200
    response = _get(kore, auth)
    assert response.status_code == 401
    assert errors(response) == ["error verifying the jwt: possibly a replay"]
    assert _get(kore, token()).status_code == 200, "tokens without jti stay reusable"


def test_configured_credentials_replace_the_defaults() -> None:
    secret = "ci-secret-ci-secret-ci-secret-0123"
    app = create_app(client_id="ci-app", client_secret=secret, rate_limit=0)
    with EmulatorServer(app) as srv, httpx.Client(base_url=srv.url) as http:
        kore = Kore(http)
        assert _get(kore, token({"appId": "ci-app"}, secret=secret)).status_code == 200
        assert _get(kore, token()).status_code == 401


def test_secrets_shorter_than_32_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        create_app(client_secret="short")


@pytest.mark.parametrize(
    ("drop", "message"),
    [("iid", "iid header is required"), ("accountId", "accountId header is required")],
)
def test_missing_headers_are_400(kore: Kore, drop: str, message: str) -> None:
    headers = {"auth": token(), "iid": STREAM, "accountId": ACCOUNT}
    del headers[drop]
    response = kore.http.post(f"{kore.v2}/getAllCampaignDetails", headers=headers, json={"type": "sms"})
    assert response.status_code == 400
    assert errors(response) == [message]


def test_header_names_are_case_insensitive(kore: Kore) -> None:
    headers = {"AUTH": token(), "IID": STREAM, "accountid": ACCOUNT}
    created = kore.http.post(kore.v2, params={"campaignType": "sms"}, headers=headers, json=sms_advanced())
    assert created.status_code == 200, created.text
    assert kore.list_data(type="sms")["totalResults"] == 1, "lower-case accountid reaches the same account"


def test_account_in_the_query_string_is_enough(kore: Kore) -> None:
    """The older v1 revision sent only ``auth`` and put accountId in the query (§1.2, §12.2)."""
    response = kore.http.post(
        f"{kore.v2}/getAllCampaignDetails",
        params={"accountId": ACCOUNT},
        headers={"auth": token(), "iid": STREAM},
        json={"type": "sms"},
    )
    assert response.status_code == 200
