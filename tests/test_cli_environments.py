"""`campaign-sync environments`: the names of the config's environments, for people and CI matrices."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import CliRunner

from campaign_sync.cli import cli
from tests.conftest import Repo

TWO = """\
version: 1
environments:
  staging:
    host: http://127.0.0.1:8787
    streamId: st-staging
    accountId: acct-staging
  prod:
    host: https://platform.kore.ai
    streamId: st-prod
    accountId: acct-prod
    state: states/prod.json
"""


def run(repo: Repo, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(repo.root / "campaign-sync.yaml"), *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_is_a_sorted_list_of_names_on_one_line(make_repo: Callable[[str], Repo]) -> None:
    code, out, _err = run(make_repo(TWO), "environments", "--format", "json")

    assert code == 0
    assert out == '["prod", "staging"]\n'
    assert json.loads(out) == ["prod", "staging"]


def test_text_is_one_name_a_line(make_repo: Callable[[str], Repo]) -> None:
    code, out, _err = run(make_repo(TWO), "environments")

    assert code == 0
    assert out == "prod\nstaging\n"


def test_one_environment_is_a_one_entry_list(repo: Repo) -> None:
    code, out, _err = run(repo, "environments", "--format", "json")

    assert code == 0
    assert json.loads(out) == ["prod"]


def test_details_say_where_each_state_is_kept(make_repo: Callable[[str], Repo]) -> None:
    code, out, _err = run(make_repo(TWO), "environments", "--format", "json", "--details")

    assert code == 0
    assert json.loads(out) == [
        {
            "name": "prod",
            "host": "https://platform.kore.ai",
            "state": {"backend": "file", "path": "states/prod.json"},
        },
        {
            "name": "staging",
            "host": "http://127.0.0.1:8787",
            "state": {"backend": "file", "path": ".campaign-sync/staging.state.json"},
        },
    ]
    code, text, _err = run(make_repo(TWO), "environments", "--details")
    assert code == 0
    assert text.splitlines() == [
        "prod     https://platform.kore.ai  state: file states/prod.json",
        "staging  http://127.0.0.1:8787  state: file .campaign-sync/staging.state.json",
    ]


def test_global_options_after_the_command_and_env_is_not_needed(make_repo: Callable[[str], Repo]) -> None:
    """Several environments and no -e: listing them is exactly what needs no choice."""
    repo = make_repo(TWO)
    result = CliRunner().invoke(
        cli, ["environments", "--format", "json", "--config", str(repo.root / "campaign-sync.yaml")]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == ["prod", "staging"]


def test_an_invalid_config_is_an_error_with_its_line_and_nothing_on_stdout(
    make_repo: Callable[[str], Repo],
) -> None:
    code, out, err = run(
        make_repo(TWO.replace("streamId: st-prod", "streamId: st-prod\n    colour: red")),
        "environments",
        "--format",
        "json",
    )

    assert code == 1
    assert out == ""
    assert "campaign-sync.yaml:" in err
    assert "colour" in err


def test_details_of_a_postgres_backend_name_the_dsn_variable_never_a_dsn(
    make_repo: Callable[[str], Repo],
) -> None:
    repo = make_repo(
        TWO.replace("    state: states/prod.json", "    state: {backend: postgres, dsnEnv: PROD_PG_DSN}")
    )

    result = CliRunner().invoke(
        cli,
        ["--config", str(repo.root / "campaign-sync.yaml"), "environments", "--format", "json", "--details"],
        env={"PROD_PG_DSN": "postgresql://u:hunter2@db.example.com/cs"},
    )

    assert result.exit_code == 0, result.output
    prod = json.loads(result.stdout)[0]
    assert prod["state"]["backend"] == "postgres"
    assert prod["state"]["dsnEnv"] == "PROD_PG_DSN"
    assert "hunter2" not in result.stdout
