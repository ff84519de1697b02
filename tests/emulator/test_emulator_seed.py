"""Seeds: which account seeded campaigns land in, and strict keys (``--seed`` files and ``POST /seed``).

The last tests run the real ``campaign-sync emulator --seed FILE`` command in a repository, as a
user would before ``campaign-sync plan``: seeds that name no account go to the chosen
environment's account.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import ACCOUNT, OTHER_ACCOUNT, STREAM, Kore, errors, sms_advanced, voice_agentless

from campaign_sync.emulator import DEFAULT_ACCOUNT_ID, SeedError, create_app
from tests.e2e.harness import command

THIRD_ACCOUNT = "67777ce93e25326494e90003"


def _names(kore: Kore, account: str) -> list[str]:
    return sorted(c["name"] for c in kore.control("GET", "campaigns", params={"accountId": account}))


def test_an_unknown_seed_key_is_a_400_naming_it_and_seeds_nothing(kore: Kore) -> None:
    body = {"campaign": [sms_advanced()], "flows": {"Billing Flow": "cf-1"}}
    response = kore.http.post("/__emulator/seed", json=body)
    assert response.status_code == 400
    assert errors(response) == [
        "unknown seed key 'campaign' (known: accountId, flows, contactLists, dncLists, queues, "
        "templates, campaigns)"
    ]
    assert kore.control("GET", "campaigns") == []
    assert "Billing Flow" not in kore.control("GET", "registries")["flows"]


def test_an_unknown_key_in_a_seeded_campaign_is_named_with_its_index(kore: Kore) -> None:
    body = {"campaigns": [sms_advanced("Fine"), sms_advanced("Typo", experienceFlowname="SMS Support Flow")]}
    response = kore.http.post("/__emulator/seed", json=body)
    assert response.status_code == 400
    [message] = errors(response)
    assert message.startswith("campaigns[1]: unknown key 'experienceFlowname'")
    assert kore.control("GET", "campaigns") == [], "all or nothing"


def test_a_campaign_account_wins_over_the_seed_account_and_the_query(kore: Kore) -> None:
    body = {
        "accountId": OTHER_ACCOUNT,
        "campaigns": [sms_advanced("In Other"), sms_advanced("In Third", accountId=THIRD_ACCOUNT)],
    }
    ids = kore.control("POST", "seed", params={"accountId": ACCOUNT}, json=body)["ids"]
    assert set(ids) == {"In Other", "In Third"}
    assert _names(kore, OTHER_ACCOUNT) == ["In Other"]
    assert _names(kore, THIRD_ACCOUNT) == ["In Third"]
    assert _names(kore, ACCOUNT) == []
    third = Kore(kore.http, account=THIRD_ACCOUNT)
    assert [r["name"] for r in third.list_data(type="sms")["results"]] == ["In Third"]
    assert "accountId" not in third.get_data(ids["In Third"]), "the account is not part of the document"


def test_the_same_name_may_be_seeded_into_two_accounts_but_not_twice_into_one(kore: Kore) -> None:
    twice = {"campaigns": [sms_advanced("Twin"), sms_advanced("Twin", accountId=OTHER_ACCOUNT)]}
    assert set(kore.control("POST", "seed", json=twice)["ids"]) == {"Twin"}
    again = kore.http.post("/__emulator/seed", json={"campaigns": [sms_advanced("Twin")]})
    assert again.status_code == 400
    assert errors(again) == ['campaigns[0]: a sms campaign named "Twin" already exists']


def test_one_seed_cannot_give_two_campaigns_the_same_id(kore: Kore) -> None:
    cid = "cd-00000000-0000-4000-8000-0000000000aa"
    body = {"campaigns": [sms_advanced("One", _id=cid), sms_advanced("Two", _id=cid)]}
    response = kore.http.post("/__emulator/seed", json=body)
    assert response.status_code == 400
    assert errors(response) == [f"campaigns[1]: a campaign with _id {cid} already exists"]


def test_the_default_account_is_where_unaddressed_seeds_go() -> None:
    app = create_app(rate_limit=0, account_id=THIRD_ACCOUNT, seed={"campaigns": [sms_advanced("At Start")]})
    assert [d["name"] for d in app.store.campaigns(THIRD_ACCOUNT)] == ["At Start"]
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator.test") as http:
        kore = Kore(http, account=THIRD_ACCOUNT)
        kore.control("POST", "seed", json={"campaigns": [voice_agentless("Later")]})
        assert _names(kore, THIRD_ACCOUNT) == ["At Start", "Later"]
        assert app.store.campaigns(DEFAULT_ACCOUNT_ID) == []
        kore.control("POST", "reset")
        kore.control("POST", "seed", json={"campaigns": [sms_advanced("After Reset")]})
        assert _names(kore, THIRD_ACCOUNT) == ["After Reset"], "reset keeps the default account"


def test_a_seed_file_with_an_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("flows: {}\ncampaings: []\n")
    with pytest.raises(SeedError) as caught:
        create_app(seed=seed)
    assert str(caught.value) == (
        f"{seed}: unknown seed key 'campaings' (known: accountId, flows, contactLists, dncLists, "
        "queues, templates, campaigns)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("campaigns:\n  - name: [unclosed\n", ":3: "),
        ("- just\n- a list\n", ": a seed file must hold a mapping (accountId, flows"),
        ('{"campaigns": [{"name": "x"}]}', ": campaigns[0]: "),
    ],
    ids=["yaml-syntax", "not-a-mapping", "invalid-campaign"],
)
def test_a_bad_seed_file_is_a_seed_error_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(text)
    with pytest.raises(SeedError) as caught:
        create_app(seed=seed)
    assert str(caught.value).startswith(str(seed) + expected), str(caught.value)


# -- the real command -----------------------------------------------------------------------------

CONFIG = """\
version: 1
manifests: [manifests]
environments:
{envs}
"""
ENV = """\
  {name}:
    host: http://127.0.0.1:8787
    streamId: {stream}
    accountId: {account}
"""


def _repo(root: Path, **accounts: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    envs = "".join(
        ENV.format(name=name, account=account, stream=STREAM) for name, account in accounts.items()
    )
    (root / "campaign-sync.yaml").write_text(CONFIG.format(envs=envs.rstrip("\n")))
    return root


def _seed_file(root: Path, **extra: Any) -> Path:
    path = root / "seed.json"
    path.write_text(json.dumps({"campaigns": [sms_advanced("Seeded")], **extra}))
    return path


@contextmanager
def _emulator(cwd: Path, *args: str) -> Iterator[tuple[Kore, list[str], list[str]]]:
    """``campaign-sync [args] --port 0`` in ``cwd``: a control client, the banner, and (once it has
    stopped) its stderr lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORE_")}
    process = subprocess.Popen(
        [*command(), *args, "--port", "0", "--rate-limit", "0"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        banner = [process.stdout.readline() for _ in range(7)]
        prefix = "campaign-sync emulator listening on "
        assert banner[0].startswith(prefix), banner[0] + process.stderr.read()
        stderr: list[str] = []
        with httpx.Client(base_url=banner[0][len(prefix) :].strip(), timeout=10) as http:
            yield Kore(http), banner, stderr
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        stderr.extend(process.stderr.read().splitlines())
        assert not any("Traceback" in line for line in stderr), stderr
    finally:
        process.kill()
        process.wait(timeout=10)


def _where(banner: list[str]) -> str:
    return next(line for line in banner if "default account for seeds" in line).strip()


@pytest.mark.slow
def test_the_command_inside_a_repository_seeds_the_environment_account(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", local=ACCOUNT)
    (root / "manifests").mkdir()
    seed = _seed_file(root)
    with _emulator(root / "manifests", "emulator", "--seed", str(seed)) as (kore, banner, _):
        assert _names(kore, ACCOUNT) == ["Seeded"]
        assert _names(kore, DEFAULT_ACCOUNT_ID) == []
        assert _where(banner) == (
            f"default account for seeds: {ACCOUNT} (environment local of ../campaign-sync.yaml)"
        )
        kore.control("POST", "seed", json={"campaigns": [sms_advanced("Through Control")]})
        assert _names(kore, ACCOUNT) == ["Seeded", "Through Control"]


@pytest.mark.slow
def test_the_command_seeds_the_account_chosen_with_env(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", staging=OTHER_ACCOUNT, prod=THIRD_ACCOUNT)
    seed = _seed_file(root)
    with _emulator(root, "-e", "prod", "emulator", "--seed", str(seed)) as (kore, banner, _):
        assert _names(kore, THIRD_ACCOUNT) == ["Seeded"]
        assert _names(kore, OTHER_ACCOUNT) == []
        assert THIRD_ACCOUNT in _where(banner)


@pytest.mark.slow
def test_a_seed_account_wins_over_the_environment(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", local=ACCOUNT)
    seed = _seed_file(root, accountId=OTHER_ACCOUNT)
    with _emulator(root, "emulator", "--seed", str(seed)) as (kore, _, _):
        assert _names(kore, OTHER_ACCOUNT) == ["Seeded"]
        assert _names(kore, ACCOUNT) == []


@pytest.mark.slow
def test_outside_a_repository_seeds_go_to_the_built_in_account(tmp_path: Path) -> None:
    seed = _seed_file(tmp_path)
    with _emulator(tmp_path, "emulator", "--seed", str(seed)) as (kore, banner, _):
        assert _names(kore, DEFAULT_ACCOUNT_ID) == ["Seeded"]
        assert _where(banner) == f"default account for seeds: {DEFAULT_ACCOUNT_ID} (built-in default)"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORE_")}
    return subprocess.run(
        [*command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.slow
def test_several_environments_and_no_env_is_a_warning_not_a_refusal(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", staging=OTHER_ACCOUNT, prod=THIRD_ACCOUNT)
    seed = _seed_file(root)
    with _emulator(root, "emulator", "--seed", str(seed)) as (kore, banner, stderr):
        assert _names(kore, DEFAULT_ACCOUNT_ID) == ["Seeded"]
        assert "built-in default" in _where(banner)
    assert stderr[0] == (
        "Warning: campaign-sync.yaml: several environments (prod, staging); choose one with -e/--env; "
        "seeded campaigns without an accountId go to the built-in default account"
    )


@pytest.mark.slow
def test_an_unknown_env_is_an_error(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", local=ACCOUNT)
    done = _run(root, "emulator", "-e", "nope", "--port", "0")
    assert done.returncode == 1
    assert "no environment 'nope' (defined: local)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_bad_seed_file_stops_the_command_with_its_name_and_key(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        textwrap.dedent("""\
        flows: {"Billing Flow": cf-0f3c2d1e-0000-4000-8000-000000000001}
        campaing: []
        """)
    )
    done = _run(tmp_path, "emulator", "--port", "0", "--seed", str(seed))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"Error: the emulator cannot start: {seed}: unknown seed key 'campaing' (known: accountId, "
        "flows, contactLists, dncLists, queues, templates, campaigns)"
    )
