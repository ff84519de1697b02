"""campaign-sync.yaml: discovery, strict keys, defaults, the https rule, file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_sync.errors import ConfigError
from campaign_sync.manifests.config import find_config, load_config
from campaign_sync.urls import check_base_url
from tests.conftest import CONFIG, Repo


def test_defaults_are_filled(repo: Repo) -> None:
    env = load_config(repo.root / "campaign-sync.yaml").environment(None)
    assert env.name == "prod"
    assert env.rate_limit == 60
    assert env.parallelism == 4
    assert env.auth.clientIdEnv == "KORE_CLIENT_ID"
    assert env.auth.clientSecretEnv == "KORE_CLIENT_SECRET"
    assert env.auth.tokenEnv is None
    assert env.iid == env.stream_id
    assert env.state_path == repo.root / ".campaign-sync" / "prod.state.json"
    assert env.max_change_fraction == 0.5


def test_discovered_upward_from_a_subdirectory(repo: Repo) -> None:
    deep = repo.root / "manifests" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == repo.root / "campaign-sync.yaml"
    assert load_config(cwd=deep).root == repo.root


def test_missing_config_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="campaign-sync init"):
        load_config(cwd=tmp_path)


def test_explicit_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def _errors(make_repo, text: str) -> str:  # type: ignore[no-untyped-def]
    repo = make_repo(text)
    with pytest.raises(ConfigError) as info:
        load_config(repo.root / "campaign-sync.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("    accountId:", "    acountId: x\n    accountId:"),
            "campaign-sync.yaml:7: environments.prod.acountId: unknown field (did you mean 'accountId'?)",
        ),
        (("version: 1", "version: 2"), "campaign-sync.yaml:1: version: must be one of"),
        (
            ("    host: https://platform.kore.ai", "    host: http://platform.kore.ai"),
            "campaign-sync.yaml:5: environments.prod.host: must use https",
        ),
        (
            ("    host: https://platform.kore.ai", "    host: https://platform.kore.ai/api"),
            "environments.prod.host: must be scheme://host[:port] only",
        ),
        (
            ("    host: https://platform.kore.ai", "    host: https://user:pw@platform.kore.ai"),
            "must not contain credentials",
        ),
        (
            ("    vars:", "    rateLimit: 0\n    vars:"),
            "campaign-sync.yaml:8: environments.prod.rateLimit: must be >= 1",
        ),
        (
            ("    vars:", "    parallelism: many\n    vars:"),
            "environments.prod.parallelism: must be a whole number",
        ),
        (
            ("    vars:", "    auth: {clientSecretEnv: 'my secret'}\n    vars:"),
            "environments.prod.auth.clientSecretEnv: must match",
        ),
        (
            ("    vars:", "    experienceFlows: {X: flow-1}\n    vars:"),
            "environments.prod.experienceFlows.X: must match ^cf-",
        ),
        (
            ("    vars:", "    maxChangeFraction: 1.5\n    vars:"),
            "environments.prod.maxChangeFraction: must be <= 1",
        ),
        (("environments:", "colour: blue\nenvironments:"), "campaign-sync.yaml:3: colour: unknown field"),
        (
            ("    streamId: st-0603182c-7ffb-53c3-b307-47ca14b90001\n", ""),
            "campaign-sync.yaml:4: environments.prod.streamId: required",
        ),
        (("manifests: [manifests]", "manifests: []"), "manifests: must have at least 1 item"),
        (("  prod:", "  prod:\n  prod:"), "duplicate key 'prod'"),
    ],
)
def test_config_errors_name_file_line_and_field(make_repo, edit: tuple[str, str], expected: str) -> None:  # type: ignore[no-untyped-def]
    assert edit[0] in CONFIG
    assert expected in _errors(make_repo, CONFIG.replace(*edit))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8787",
        "http://localhost:8787",
        "http://[::1]:8787",
        "http://127.1.2.3",
        "https://platform.kore.ai",
    ],
)
def test_loopback_may_use_http(url: str) -> None:
    assert check_base_url(url + "/") == url


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1", "http://platform.kore.ai", "http://localhost.example.com", "ftp://x"]
)
def test_other_hosts_need_https(url: str) -> None:
    with pytest.raises(ValueError, match=r"https|URL"):
        check_base_url(url)


def test_environment_selection(make_repo) -> None:  # type: ignore[no-untyped-def]
    text = (
        CONFIG
        + "  dev:\n    host: http://127.0.0.1:8787\n    streamId: st-2\n    accountId: a2\n    rateLimit: 600\n"
    )
    config = load_config(make_repo(text).root / "campaign-sync.yaml")
    with pytest.raises(ConfigError, match="several environments \\(dev, prod\\)"):
        config.environment(None)
    assert config.environment("dev").rate_limit == 600
    with pytest.raises(ConfigError, match="no environment 'qa'"):
        config.environment("qa")


def test_state_path_and_fraction_overrides(make_repo) -> None:  # type: ignore[no-untyped-def]
    text = "maxChangeFraction: 0.3\n" + CONFIG + "    state: state/prod.json\n"
    env = load_config(make_repo(text).root / "campaign-sync.yaml").environment("prod")
    assert env.state_path == env.config.root / "state" / "prod.json"
    assert env.max_change_fraction == 0.3


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1\t:18801", "without spaces or control characters"),
        ("http://127.0.0.1:99999", "port must be a number from 1 to 65535"),
        ("http://127.0.0.1:0", "port must be a number from 1 to 65535"),
        ("https://platform.kore.ai:", "port must be a number from 1 to 65535"),
        ("https://platform.kore.ai:8x", "port must be a number from 1 to 65535"),
        ("https://plat form.kore.ai", "without spaces or control characters"),
        ("https://platform.kore.ai\n", "without spaces or control characters"),
        ("https://platform.kore.ai\u202e", "without spaces or control characters"),
        ("https://bad_host.kore.ai", "is not a valid host name"),
        ("https://a..b", "is not a valid host name"),
        ("https://-a.kore.ai", "is not a valid host name"),
        ("https://999.1.1.1", "is not a valid host name or IP address"),
        ("http://[::1", "URL"),
    ],
)
def test_urls_are_checked_fully(url: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        check_base_url(url)


def test_validate_reports_a_bad_host_with_file_and_line(make_repo) -> None:  # type: ignore[no-untyped-def]
    text = CONFIG.replace("    host: https://platform.kore.ai", '    host: "http://127.0.0.1\\t:18801"')
    assert "campaign-sync.yaml:5: environments.prod.host: must be a URL" in _errors(make_repo, text)
    text = CONFIG.replace("    host: https://platform.kore.ai", "    host: http://127.0.0.1:99999")
    assert "campaign-sync.yaml:5: environments.prod.host: port must be a number" in _errors(make_repo, text)


@pytest.mark.parametrize("field", ["streamId", "accountId"])
@pytest.mark.parametrize("value", ['"st-1\\t"', '"st 1"', '"../../x"', '"st-1\\u202e"'])
def test_ids_that_go_into_urls_and_headers_are_checked(make_repo, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    line = next(line for line in CONFIG.splitlines() if line.strip().startswith(f"{field}:"))
    text = CONFIG.replace(line, f"    {field}: {value}")
    assert f"environments.prod.{field}: " in _errors(make_repo, text)


def test_state_mapping_forms(make_repo) -> None:  # type: ignore[no-untyped-def]
    text = CONFIG + "    state: {backend: postgres, dsnEnv: TEAM_PG, schema: team_a}\n"
    env = load_config(make_repo(text).root / "campaign-sync.yaml").environment("prod")
    assert env.state_backend.backend == "postgres"
    assert env.state_backend.dsn_env == "TEAM_PG"
    assert env.state_backend.schema == "team_a"
    assert env.state_path is None
    defaults = CONFIG + "    state: {backend: postgres}\n"
    env = load_config(make_repo(defaults).root / "campaign-sync.yaml").environment("prod")
    assert (env.state_backend.dsn_env, env.state_backend.schema) == ("CAMPAIGN_SYNC_PG_DSN", "campaign_sync")
    long_file = CONFIG + "    state: {backend: file, path: s/prod.json}\n"
    env = load_config(make_repo(long_file).root / "campaign-sync.yaml").environment("prod")
    assert env.state_path == env.config.root / "s" / "prod.json"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("{backend: file, dsnEnv: X}", "dsnEnv and schema are settings of backend: postgres"),
        ("{backend: postgres, path: x.json}", "path is a setting of backend: file"),
        ("{backend: s3}", "must be one of 'file' or 'postgres', got 's3'"),
        ("{backend: postgres, dsn: 'host=x password=y'}", "unknown field"),
        ("{backend: postgres, schema: Bad-Name}", "must match"),
        ("{backend: postgres, dsnEnv: 'not a name'}", "must match"),
    ],
)
def test_bad_state_settings_name_the_line(make_repo, state: str, message: str) -> None:  # type: ignore[no-untyped-def]
    text = CONFIG + f"    state: {state}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(make_repo(text).root / "campaign-sync.yaml")
    assert "campaign-sync.yaml:9:" in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("file:other/prod.json", ("file", "other/prod.json", None, None)),
        ("postgres:TEAM_PG", ("postgres", None, "TEAM_PG", "campaign_sync")),
        ("postgres:TEAM_PG?schema=team_b", ("postgres", None, "TEAM_PG", "team_b")),
    ],
)
def test_backend_specs_a_user_can_type(tmp_path, text: str, expected: tuple) -> None:  # type: ignore[no-untyped-def,type-arg]
    from campaign_sync.manifests.config import parse_backend_spec

    spec = parse_backend_spec(text, tmp_path)
    kind, path, dsn_env, schema = expected
    assert spec.backend == kind
    if path is not None:
        assert spec.path == tmp_path / path
    if dsn_env is not None:
        assert (spec.dsn_env, spec.schema) == (dsn_env, schema)


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://u:s3cret-canary@db/x",
        "postgres://u:s3cret-canary@db/x",
        "host=db password=s3cret-canary",
        "postgres:TEAM_PG?schema=x&password=s3cret-canary",
        "s3:bucket",
        "nothing",
    ],
)
def test_backend_specs_that_are_refused_never_repeat_a_secret(tmp_path, text: str) -> None:  # type: ignore[no-untyped-def]
    from campaign_sync.manifests.config import parse_backend_spec

    with pytest.raises(ConfigError) as caught:
        parse_backend_spec(text, tmp_path)
    assert "s3cret-canary" not in str(caught.value)
