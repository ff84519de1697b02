"""``data_path``: everything survives a restart; writes are atomic."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from emulator_support import Kore, sms_advanced, voice_agentless

from campaign_sync.emulator import EmulatorServer, create_app


def _serve(data: Path, **options: object) -> tuple[EmulatorServer, httpx.Client]:
    server = EmulatorServer(create_app(rate_limit=0, data_path=data, **options)).start()  # type: ignore[arg-type]
    return server, httpx.Client(base_url=server.url)


def test_campaigns_registries_and_instances_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "state" / "emulator.json"
    server, http = _serve(data)
    with http:
        kore = Kore(http)
        kore.control("POST", "seed", json={"flows": {"Kept Flow": "cf-kept"}})
        sms = kore.create_ok(sms_advanced(experienceFlowName="Kept Flow"))
        voice = kore.create_ok(voice_agentless())["id"]
        kore.start_sms(sms["_id"])
        before = [kore.get_data(sms["_id"]), kore.get_data(voice)]
    server.stop()
    assert data.exists()
    assert [p.name for p in data.parent.iterdir()] == ["emulator.json"], "no temp files left behind"

    server, http = _serve(data)
    with server, http:
        kore = Kore(http)
        after = [kore.get_data(sms["_id"]), kore.get_data(voice)]
        assert after == before
        assert after[0]["campaignInstanceId"].startswith("cid-")
        assert kore.control("GET", "registries")["flows"]["Kept Flow"] == "cf-kept"
        assert kore.create(sms_advanced()).status_code == 409, "names are still taken"


def test_the_data_file_is_rewritten_after_each_mutation(tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    server, http = _serve(data)
    with server, http:
        kore = Kore(http)
        cid = kore.create_ok(sms_advanced())["_id"]
        stored = json.loads(data.read_text())
        assert list(stored["accounts"][kore.account]) == [cid]
        kore.delete(cid)
        assert json.loads(data.read_text())["accounts"][kore.account] == {}


def test_seed_applies_only_to_a_new_data_file(tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    seed = {"campaigns": [sms_advanced()]}
    first = create_app(data_path=data, seed=seed)
    [doc] = first.store.all_campaigns()
    second = create_app(data_path=data, seed=seed)
    assert [d["_id"] for d in second.store.all_campaigns()] == [doc["_id"]]


def test_without_a_data_path_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(rate_limit=0)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator.test") as http:
        Kore(http).create_ok(sms_advanced())
    assert app.store.data_path is None
    assert list(tmp_path.iterdir()) == []
