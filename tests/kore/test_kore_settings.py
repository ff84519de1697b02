"""``ClientSettings``: built from the resolved environment, validated whenever it is built or replaced."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from kore_support import ACCOUNT, STREAM

from campaign_sync.errors import ConfigError
from campaign_sync.kore import ClientSettings
from campaign_sync.manifests.config import load_config

BASE: dict[str, Any] = {
    "base_url": "https://platform.kore.ai",
    "stream_id": STREAM,
    "account_id": ACCOUNT,
    "iid": STREAM,
}


def test_settings_from_a_resolved_environment(repo: Any) -> None:
    config = load_config(cwd=repo.root)
    settings = ClientSettings.from_environment(config.environment("prod"))

    assert settings.base_url == "https://platform.kore.ai"
    assert (settings.stream_id, settings.account_id, settings.iid) == (
        "st-0603182c-7ffb-53c3-b307-47ca14b90001",
        "67777ce93e25326494e90001",
        "st-0603182c-7ffb-53c3-b307-47ca14b90001",
    )
    assert (settings.rate_limit, settings.rate_window, settings.parallelism) == (60, 60.0, 4)
    assert (settings.max_attempts, settings.retry_budget_seconds, settings.retry_after_cap) == (
        6,
        300.0,
        120.0,
    )
    assert settings.request_deadline == 30.0
    assert settings.api_root == f"https://platform.kore.ai/campaign/api/v2/public/{STREAM}"


def test_iid_defaults_to_the_stream_and_rate_settings_come_from_the_config(make_repo: Any) -> None:
    repo = make_repo(
        "version: 1\nenvironments:\n  dev:\n    host: http://127.0.0.1:8787\n    streamId: st-9\n"
        "    accountId: acc-9\n    rateLimit: 120\n    parallelism: 8\n"
    )
    settings = ClientSettings.from_environment(load_config(cwd=repo.root).environment(None))
    assert (settings.base_url, settings.iid, settings.rate_limit, settings.parallelism) == (
        "http://127.0.0.1:8787",
        "st-9",
        120,
        8,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"base_url": "http://platform.kore.ai"},
        {"base_url": "https://platform.kore.ai/some/path"},
        {"stream_id": ""},
        {"rate_limit": 0},
        {"parallelism": True},
        {"max_attempts": 0},
        {"request_deadline": 0},
        {"read_timeout": -1.0},
        {"rate_window": float("inf")},
        {"retry_budget_seconds": "300"},
    ],
)
def test_invalid_settings_are_config_errors_also_through_replace(change: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        ClientSettings(**{**BASE, **change})
    with pytest.raises(ConfigError):
        dataclasses.replace(ClientSettings(**BASE), **change)


def test_the_stream_id_is_one_encoded_path_segment() -> None:
    settings = ClientSettings(**{**BASE, "stream_id": "st-1/../x"})
    assert settings.api_root.endswith("/campaign/api/v2/public/st-1%2F..%2Fx")


def test_there_is_no_way_to_turn_tls_verification_off() -> None:
    names = {f.name for f in dataclasses.fields(ClientSettings)}
    assert not {n for n in names if "verify" in n or "tls" in n or "ssl" in n or "insecure" in n}
    with pytest.raises(TypeError):
        ClientSettings(**BASE, verify=False)  # type: ignore[call-arg]
