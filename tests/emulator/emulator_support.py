"""Helpers for the emulator tests: tokens and a small API client.

The documented sample bodies come from ``tests/fixtures/documented.py`` (re-exported here).
"""

from __future__ import annotations

import builtins
import copy
import time
import uuid
from typing import Any

import httpx
import jwt

from campaign_sync.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
)
from tests.fixtures.documented import (
    ACCOUNT,
    STREAM,
    sms_advanced,
    sms_simple,
    sms_template,
    voice_agentless,
    voice_preview,
    voice_progressive,
)

OTHER_ACCOUNT = "67777ce93e25326494e90002"


def token(
    claims: dict[str, Any] | None = None,
    *,
    secret: str = DEFAULT_CLIENT_SECRET,
    algorithm: str = "HS256",
) -> str:
    """The documented recipe (§2.2): HS256 over ``{"sub", "appId"}``; ``claims`` adds or overrides."""
    payload: dict[str, Any] = {"sub": "1234567890", "appId": DEFAULT_CLIENT_ID}
    payload.update(claims or {})
    return jwt.encode(payload, secret, algorithm=algorithm)


def fresh_token(lifetime: int = 300) -> str:
    now = int(time.time())
    return token({"iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4())})


class Kore:
    """A thin client for the emulated API: documented v2 paths, headers set once."""

    def __init__(self, http: httpx.Client, account: str = ACCOUNT, stream: str = STREAM) -> None:
        self.http = http
        self.account = account
        self.stream = stream
        self.v2 = f"/campaign/api/v2/public/{stream}/campaign"
        self.v1 = f"/agentassist/api/v1/public/{stream}/campaign"
        self.headers = {"auth": token(), "iid": stream, "accountId": account}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def create(self, body: dict[str, Any], ctype: str | None = None) -> httpx.Response:
        ctype = ctype or body.get("campaignType", "sms")
        return self.request(
            "POST", self.v2, params={"accountId": self.account, "campaignType": ctype}, json=body
        )

    def create_ok(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.create(body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def get(self, cid: str) -> httpx.Response:
        return self.request("GET", f"{self.v2}/{cid}", params={"accountId": self.account})

    def get_data(self, cid: str) -> dict[str, Any]:
        response = self.get(cid)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def put(self, cid: str, body: dict[str, Any], ctype: str | None = None) -> httpx.Response:
        params = {"accountId": self.account, "campaignType": ctype or body.get("campaignType", "sms")}
        return self.request("PUT", f"{self.v2}/{cid}", params=params, json=body)

    def delete(self, cid: str, ctype: str = "sms") -> httpx.Response:
        return self.request(
            "DELETE", f"{self.v2}/{cid}", params={"accountId": self.account, "campaignType": ctype}
        )

    def list(self, **body: Any) -> httpx.Response:
        return self.request(
            "POST", f"{self.v2}/getAllCampaignDetails", params={"accountId": self.account}, json=body
        )

    def list_data(self, **body: Any) -> dict[str, Any]:
        response = self.list(**body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def start_sms(self, cid: str) -> httpx.Response:
        return self.request(
            "POST", f"{self.v2}/{cid}", params={"campaignType": "sms", "trigger": "play"}, json={}
        )

    def stop_sms(self, cid: str) -> httpx.Response:
        params = {"accountId": self.account, "campaignType": "sms", "trigger": "stop"}
        return self.request("POST", f"{self.v2}//trigger/{cid}", params=params, json={})

    def trigger_voice(self, cid: str, trigger: str) -> httpx.Response:
        params = {"accountId": self.account, "campaignType": "voice", "trigger": trigger}
        path = f"/api/v2/public/{self.stream}/campaign/trigger/{cid}"
        return self.request("POST", path, params=params, json={})

    # control API helpers

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/__emulator/{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        offset = self.control("GET", "settings")["clockOffset"]
        self.control("PUT", "settings", json={"clockOffset": offset + seconds})

    def journal(self) -> builtins.list[dict[str, Any]]:
        entries: builtins.list[dict[str, Any]] = self.control("GET", "journal")["entries"]
        return entries

    def fault(self, **spec: Any) -> str:
        fault_id: str = self.control("POST", "faults", json=spec)["id"]
        return fault_id


def errors(response: httpx.Response) -> list[str]:
    """The messages of a platform error envelope, checking its shape on the way."""
    payload = response.json()
    assert set(payload) == {"errors"}
    for error in payload["errors"]:
        assert set(error) == {"msg", "code"}
        assert error["code"] == response.status_code
    return [error["msg"] for error in payload["errors"]]


def clone(body: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(body)


__all__ = [
    "ACCOUNT",
    "OTHER_ACCOUNT",
    "STREAM",
    "Kore",
    "clone",
    "errors",
    "fresh_token",
    "sms_advanced",
    "sms_simple",
    "sms_template",
    "token",
    "voice_agentless",
    "voice_preview",
    "voice_progressive",
]
