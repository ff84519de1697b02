"""`validate` and `schema` through the real click command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from campaign_sync.cli import _exit_status, cli
from tests.conftest import REPO, Repo
from tests.test_manifest_rules import SMS_ADVANCED, SMS_SIMPLE, VOICE_PREVIEW


def run(repo: Repo, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(repo.root / "campaign-sync.yaml"), *args])
    return result.exit_code, result.output


def test_ok_summary_counts(repo: Repo) -> None:
    repo.write("manifests/a.yaml", SMS_ADVANCED)
    repo.write("manifests/sub/b.yml", SMS_SIMPLE)
    repo.write("manifests/c.yaml", VOICE_PREVIEW)
    repo.write("manifests/README.md", "not a manifest")
    code, output = run(repo, "validate")
    assert code == 0
    assert output == "OK: 3 campaigns (2 sms, 1 voice) in 3 manifest files; config valid for prod\n"


def test_every_error_of_every_file_is_reported_together(repo: Repo) -> None:
    repo.write(
        "manifests/a.yaml",
        SMS_ADVANCED.replace("priority: 5", "priority: 9").replace(
            "timezone: Asia/Kolkata", "timezone: Nowhere"
        ),
    )
    repo.write("manifests/b.yaml", SMS_SIMPLE.replace("name: Bill Reminder", "name: " + "x" * 60))
    repo.write("manifests/c.yaml", "campaigns: [\n")
    repo.write(
        "manifests/d.yaml",
        VOICE_PREVIEW.replace("maxRingTime: 40", "maxRingTime: 400").replace(
            "dialingOrder: FIFO", "dialingOrder: X"
        ),
    )
    code, output = run(repo, "validate")
    assert code == 1
    lines = [row for row in output.splitlines() if row.strip()]
    assert "manifests/a.yaml:8: campaigns[0].priority: must be 1..5" in output
    assert "manifests/a.yaml:15: campaigns[0].dialingStrategy.callingHours.timezone" in output
    assert "manifests/b.yaml:4: campaigns[0].name: must be at most 48 characters" in output
    assert "manifests/c.yaml:2: invalid YAML" in output
    assert "manifests/d.yaml:17: campaigns[0].dialingStrategy.maxRingTime: must be 5..120" in output
    assert "manifests/d.yaml:14: campaigns[0].dialingStrategy.dialingOrder" in output
    assert len(lines) == 6


def test_duplicate_keys_across_files_name_both_locations(repo: Repo) -> None:
    repo.write("manifests/a.yaml", SMS_ADVANCED)
    repo.write("manifests/b.yaml", SMS_SIMPLE.replace("key: bill-reminder", "key: interactive-support"))
    code, output = run(repo, "validate")
    assert code == 1
    assert "manifests/b.yaml:2: key: 'interactive-support' is also used at manifests/a.yaml:2" in output


def test_duplicate_names_per_type_ignore_case(repo: Repo) -> None:
    repo.write("manifests/a.yaml", SMS_ADVANCED)
    repo.write(
        "manifests/b.yaml",
        SMS_SIMPLE.replace("name: Bill Reminder", "name: interactive SUPPORT sms campaign"),
    )
    code, output = run(repo, "validate")
    assert code == 1
    assert (
        "manifests/b.yaml:2: name: sms campaign name 'interactive SUPPORT sms campaign' is also used by 'interactive-support' at manifests/a.yaml:2"
        in output
    )


def test_same_name_in_different_types_is_fine(repo: Repo) -> None:
    repo.write("manifests/a.yaml", SMS_ADVANCED.replace("Interactive Support SMS Campaign", "Shared"))
    repo.write("manifests/b.yaml", VOICE_PREVIEW.replace("Collections Preview", "Shared"))
    assert run(repo, "validate")[0] == 0


def test_manifest_paths_must_stay_in_the_repository(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(
        "version: 1\nmanifests: [manifests, ../elsewhere, /etc]\nenvironments:\n  p: {host: 'https://x.example', streamId: s, accountId: a}\n"
    )
    code, output = run(repo, "validate")
    assert code == 1
    assert "manifests: '../elsewhere' must be a path inside the repository" in output
    assert "manifests: '/etc' must be a path inside the repository" in output


def test_symlinked_manifest_escaping_the_repository_is_refused(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text(SMS_ADVANCED)
    (repo.root / "manifests" / "link.yaml").symlink_to(outside)
    code, output = run(repo, "validate")
    assert code == 1
    assert "manifests/link.yaml: is a symlink that points outside the repository" in output


def test_global_options_before_or_after_the_command(repo: Repo) -> None:
    repo.write("manifests/a.yaml", SMS_ADVANCED)
    config = str(repo.root / "campaign-sync.yaml")
    for args in (
        ["--config", config, "-e", "prod", "validate"],
        ["validate", "--config", config, "-e", "prod"],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["validate", "--config", config, "-e", "nope"])
    assert result.exit_code == 1
    assert "no environment 'nope'" in result.output


def test_usage_errors_exit_1_not_2() -> None:
    assert CliRunner().invoke(cli, ["plan-nothing"]).exit_code == 1


def test_validate_checks_every_environment_when_none_is_chosen(make_repo) -> None:  # type: ignore[no-untyped-def]
    config = (
        "version: 1\nenvironments:\n"
        "  dev: {host: 'http://127.0.0.1:1', streamId: s, accountId: a, vars: {callerId: '+14155550100'}}\n"
        "  prod: {host: 'https://x.example', streamId: s, accountId: a, vars: {callerId: 'oops'}}\n"
    )
    repo = make_repo(config)
    repo.write("manifests/a.yaml.j2", SMS_SIMPLE.replace('"+14155550100"', '"{{ callerId }}"'))
    code, output = run(repo, "validate")
    assert code == 1
    assert "phoneNumber: must be an E.164 phone number" in output
    assert run(repo, "-e", "dev", "validate")[0] == 0


def test_schema_is_json_schema_for_manifests(repo: Repo) -> None:
    code, output = run(repo, "schema")
    assert code == 0
    schema = json.loads(output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["properties"]["campaigns"]["type"] == ["array", "null"]
    assert {"SmsSimple", "SmsAdvanced", "VoiceAgentless", "VoiceProgressive", "VoicePreview"} <= set(
        schema["$defs"]
    )
    preview = schema["$defs"]["VoicePreview"]
    assert {"queueName", "queue_name", "maxSkips"} <= set(preview["properties"])
    assert {"anyOf": [{"required": ["queueName"]}, {"required": ["queue_name"]}]} in preview["allOf"]
    assert "maxSkips" in preview["required"]
    assert preview["additionalProperties"] is False


def test_repository_example_manifests_validate() -> None:
    result = CliRunner().invoke(cli, ["--config", str(REPO / "campaign-sync.yaml"), "validate"])
    assert result.exit_code == 0, result.output
    assert "7 campaigns (4 sms, 3 voice)" in result.output


def test_help_and_version_do_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from campaign_sync.cli import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pydantic', 'httpx', 'deepdiff', 'jinja2', 'yaml', 'jwt') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ}
    )
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"
    assert "validate" in out.stdout
    version = subprocess.run(
        [sys.executable, "-m", "campaign_sync", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("campaign-sync, version ")


def test_the_console_script_ends_with_the_commands_status_and_all_its_output(tmp_path: Path) -> None:
    """``main`` ends the process with ``os._exit`` once the command is done: nothing may be lost."""
    script = (
        "import sys\n"
        "from campaign_sync.cli import main\n"
        "sys.argv = ['campaign-sync', *sys.argv[1:]]\n"
        "main()\n"
        "print('NOT REACHED')\n"
    )
    ok = subprocess.run(
        [sys.executable, "-c", script, "--config", str(REPO / "campaign-sync.yaml"), "validate"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "7 campaigns (4 sms, 3 voice)" in ok.stdout
    assert "NOT REACHED" not in ok.stdout
    missing = subprocess.run(
        [sys.executable, "-c", script, "--config", str(tmp_path / "absent.yaml"), "validate"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1
    assert "absent.yaml" in missing.stderr
    schema = subprocess.run([sys.executable, "-c", script, "schema"], capture_output=True, text=True)
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["$schema"]  # ~100 KB through a pipe, every byte flushed


@pytest.mark.parametrize(
    ("code", "status", "printed"),
    [(None, 0, ""), (0, 0, ""), (2, 2, ""), (256 + 3, 3, ""), ("boom", 1, "boom")],
)
def test_exit_status_is_what_sys_exit_gives(
    code: object, status: int, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_status(code) == status
    assert capsys.readouterr().err.strip() == printed


def test_a_plain_workspace_plan_path_imports_neither_jinja2_nor_deepdiff(tmp_path: Path) -> None:
    """Jinja2 is imported for the first template, deepdiff for the first real difference."""
    plain = tmp_path / "manifests"
    for source in (REPO / "manifests").rglob("*.yaml"):
        (plain / source.name).parent.mkdir(parents=True, exist_ok=True)
        (plain / source.name).write_bytes(source.read_bytes())
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from campaign_sync.manifests.loader import load_desired\n"
        "from campaign_sync.core.diff import compare\n"
        "from campaign_sync.core.normalize import desired_view\n"
        f"root = Path({str(tmp_path)!r})\n"
        "desired = load_desired(root, ['manifests'], {}, {}, {}, 'dev')\n"
        "assert len(desired.campaigns) > 3, desired.campaigns\n"
        "views = [desired_view(c.campaign) for c in desired.campaigns.values()]\n"
        "assert all(compare(v, v) == [] for v in views)\n"
        "print('AFTER-SAME', 'jinja2' in sys.modules, 'deepdiff' in sys.modules)\n"
        "print('CHANGES', len(compare(views[0], {**views[0], 'description': 'other'})))\n"
        "print('AFTER-DIFF', 'deepdiff' in sys.modules)\n"
        "from campaign_sync.errors import ManifestError\n"
        "try:\n"
        f"    load_desired(Path({str(REPO)!r}), ['manifests'], {{}}, {{}}, {{}}, 'dev')\n"
        "except ManifestError:\n"
        "    pass  # its variables live in campaign-sync.yaml; rendering it is what counts here\n"
        "print('WITH-TEMPLATES', 'jinja2' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "CAMPAIGN_SYNC_CACHE_DIR": ""},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "AFTER-SAME False False" in lines
    assert "CHANGES 1" in lines
    assert "AFTER-DIFF True" in lines
    assert "WITH-TEMPLATES True" in lines  # the repository's manifests hold a *.yaml.j2


def test_the_console_script_runs_exit_handlers_before_it_ends(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
        "from campaign_sync.cli import main\n"
        "sys.argv = ['campaign-sync', '--version']\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("campaign-sync, version ")
    assert marker.read_text() == "yes"
