"""Jinja2 manifests: sandboxed, strict, confined to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from campaign_sync.cli import cli
from tests.conftest import Repo

TEMPLATE = """\
campaigns:
  - key: reminder
    campaignType: sms
    name: Reminder {{ environment }}
    description: "{{ description | default('Reminder') }}"
    contactLists: [CL Only 2020 Dec 4]
    priority: 4
    format: simple
    message: {message: "hello"}
    dialingStrategy:
      callerId: {phoneNumber: "CALLER"}
      callingHours:
        frequency: WEEKLY
        timezone: America/Los_Angeles
        days:
          - {day: MO, start: "9:00 AM", end: "5:00 PM"}
"""


def validate(repo: Repo, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner(env=env).invoke(
        cli, ["--config", str(repo.root / "campaign-sync.yaml"), "validate", *args]
    )
    return result.exit_code, result.output


def test_caller_id_from_config_vars(repo: Repo) -> None:
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", "{{ callerId }}"))
    code, output = validate(repo)
    assert code == 0, output


def test_cli_var_overrides_config_var(repo: Repo) -> None:
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", "{{ callerId }}"))
    code, output = validate(repo, "--var", "callerId=not-a-phone")
    assert code == 1
    assert "manifests/t.yaml.j2:11: campaigns[0].dialingStrategy.callerId.phoneNumber" in output


def test_prefixed_environment_variables_are_visible(repo: Repo) -> None:
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", "{{ env.CAMPAIGN_SYNC_VAR_CALLER }}"))
    code, output = validate(repo, env={"CAMPAIGN_SYNC_VAR_CALLER": "+14155550111"})
    assert code == 0, output


def test_other_environment_variables_are_not(repo: Repo) -> None:
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", "{{ env.KORE_CLIENT_SECRET }}"))
    code, output = validate(repo, env={"KORE_CLIENT_SECRET": "s3cret-value-canary"})
    assert code == 1
    assert "manifests/t.yaml.j2:11: template:" in output
    assert "KORE_CLIENT_SECRET" in output
    assert "s3cret-value-canary" not in output


def test_undefined_variable_names_template_and_line(repo: Repo) -> None:
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", "{{ callerIdd }}"))
    code, output = validate(repo)
    assert code == 1
    assert "manifests/t.yaml.j2:11: template: 'callerIdd' is undefined" in output


def test_syntax_error_names_line(repo: Repo) -> None:
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", "{{ callerId "))
    code, output = validate(repo)
    assert code == 1
    assert "manifests/t.yaml.j2:11: template:" in output


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ cycler.__init__.__globals__.os.popen('touch CANARY').read() }}",
    "{{ joiner.__init__.__globals__['os'].system('touch CANARY') }}",
    "{{ lipsum.__globals__['os'].popen('touch CANARY').read() }}",
    "{{ '{0.__class__}'.format('') }}",
    "{{ ''.format_map.__self__ }}",
    "{% set x = [] %}{{ x.append(1) }}",
    "{{ self.__init__.__globals__ }}",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_sandbox_escapes_fail_and_touch_nothing(repo: Repo, payload: str, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", payload.replace("CANARY", str(canary))))
    cwd = os.getcwd()
    code, output = validate(repo)
    assert os.getcwd() == cwd
    assert code == 1, output
    assert "manifests/t.yaml.j2:11: template:" in output
    assert not canary.exists()
    assert "Traceback" not in output


@pytest.mark.parametrize("target", ["../outside.yaml", "/etc/passwd", "sub/../../outside.yaml"])
def test_includes_cannot_leave_the_repository(repo: Repo, target: str) -> None:
    (repo.root.parent / "outside.yaml").write_text("campaigns: []\n")
    repo.write("manifests/t.yaml.j2", f'{{% include "{target}" %}}\n')
    code, output = validate(repo)
    assert code == 1
    assert "manifests/t.yaml.j2:1: template: cannot include" in output


def test_includes_inside_the_repository_work(repo: Repo) -> None:
    (repo.root / "partials").mkdir()
    (repo.root / "partials" / "hours.j2").write_text(
        '          - {day: MO, start: "9:00 AM", end: "5:00 PM"}\n'
    )
    text = TEMPLATE.replace("CALLER", "{{ callerId }}").replace(
        '          - {day: MO, start: "9:00 AM", end: "5:00 PM"}\n', '{% include "partials/hours.j2" %}'
    )
    repo.write("manifests/t.yaml.j2", text)
    code, output = validate(repo)
    assert code == 0, output


def test_symlinked_include_escaping_the_repository_is_refused(repo: Repo) -> None:
    outside = repo.root.parent / "secret.j2"
    outside.write_text("campaigns: []\n")
    (repo.root / "partials").mkdir()
    (repo.root / "partials" / "link.j2").symlink_to(outside)
    repo.write("manifests/t.yaml.j2", '{% include "partials/link.j2" %}\n')
    code, output = validate(repo)
    assert code == 1
    assert "cannot include" in output


def test_plain_yaml_files_are_not_rendered(repo: Repo) -> None:
    repo.write(
        "manifests/t.yaml", TEMPLATE.replace("CALLER", "+14155550100").replace("{{ environment }}", "X")
    )
    code, output = validate(repo)
    assert code == 0, output
