"""Errors point at the line of the field they are about: placeholders, and campaigns of an unknown type."""

from __future__ import annotations

from click.testing import CliRunner

from campaign_sync.cli import cli
from tests.conftest import ACCOUNT, Repo
from tests.test_manifest_rules import SMS_SIMPLE


def run(repo: Repo, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(repo.root / "campaign-sync.yaml"), *args, "--no-color"], env={"NO_COLOR": "1"}
    )
    return result.exit_code, result.output


def numbered(text: str, marker: str) -> int:
    """The 1-based line of ``text`` that holds ``marker``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)


PLACEHOLDERS = SMS_SIMPLE.replace("Bill Reminder", "REPLACE-WITH-NAME", 1) + (
    "  - key: second\n"
    "    campaignType: sms\n"
    "    format: simple\n"
    "    name: Second\n"
    "    description: second one\n"
    "    contactLists:\n"
    "      - CL Only 2020 Dec 4\n"
    "      - REPLACE-WITH-A-CONTACT-LIST\n"
    "    priority: 2\n"
    "    message: {message: hello}\n"
    "    dialingStrategy:\n"
    "      callerId: {phoneNumber: '+14155550100'}\n"
    "      callingHours:\n"
    "        frequency: DAILY\n"
    "        timezone: REPLACE-WITH-ZONE\n"
    "        days: [{day: MO, start: '9:00 AM', end: '5:00 PM'}]\n"
)


def test_placeholders_point_at_their_own_fields(repo: Repo) -> None:
    repo.write("manifests/a.yaml", PLACEHOLDERS.replace("timezone: REPLACE-WITH-ZONE", "timezone: UTC"))
    code, output = run(repo, "validate")
    assert code == 0
    name_line = numbered(PLACEHOLDERS, "REPLACE-WITH-NAME")
    list_line = numbered(PLACEHOLDERS, "REPLACE-WITH-A-CONTACT-LIST")
    assert (
        f"manifests/a.yaml:{name_line}: bill-reminder.name: still a placeholder (REPLACE-WITH-NAME)" in output
    )
    assert (
        f"manifests/a.yaml:{list_line}: second.contactLists[1]: still a placeholder (REPLACE-WITH-A-CONTACT-LIST)"
        in output
    )


def test_plan_refuses_placeholders_at_their_lines_config_included(make_repo) -> None:  # type: ignore[no-untyped-def]
    config = (
        "version: 1\n"
        "manifests: [manifests]\n"
        "environments:\n"
        "  prod:\n"
        "    host: https://platform.kore.ai\n"
        "    streamId: REPLACE-WITH-STREAM-ID\n"
        f"    accountId: {ACCOUNT}\n"
    )
    repo = make_repo(config)
    repo.write("manifests/a.yaml", PLACEHOLDERS.replace("timezone: REPLACE-WITH-ZONE", "timezone: UTC"))
    code, output = run(repo, "plan")
    assert code == 1
    assert (
        "campaign-sync.yaml:6: environments.prod.streamId: still a placeholder (REPLACE-WITH-STREAM-ID)"
        in output
    )
    list_line = numbered(PLACEHOLDERS, "REPLACE-WITH-A-CONTACT-LIST")
    assert f"manifests/a.yaml:{list_line}: second.contactLists[1]: still a placeholder" in output


def test_placeholders_in_a_template_point_at_the_rendered_line(repo: Repo) -> None:
    text = PLACEHOLDERS.replace("timezone: REPLACE-WITH-ZONE", "timezone: {{ 'UTC' }}")
    repo.write("manifests/a.yaml.j2", text)
    code, output = run(repo, "validate")
    assert code == 0
    assert f"manifests/a.yaml.j2:{numbered(text, 'REPLACE-WITH-NAME')}: bill-reminder.name" in output


UNKNOWN = (
    "campaigns:\n"
    "  - key: Bad Key\n"
    "    campaignType: email\n"
    "    name: Newsletter\n"
    "    contactLists: []\n"
    "    priority: 9\n"
    "    subject: Hello\n"
)


def test_an_unknown_type_hides_no_other_error(repo: Repo) -> None:
    repo.write("manifests/a.yaml", UNKNOWN)
    code, output = run(repo, "validate")
    assert code == 1
    lines = output.removeprefix("Error: ").splitlines()
    assert lines[0] == "manifests/a.yaml:2: campaigns[0].description: required"
    assert "manifests/a.yaml:2: campaigns[0].key: " in output
    assert "manifests/a.yaml:3: campaigns[0].campaignType: must be sms or voice, got 'email'" in output
    assert "manifests/a.yaml:5: campaigns[0].contactLists: " in output
    assert "manifests/a.yaml:6: campaigns[0].priority: must be 1..5" in output
    assert "manifests/a.yaml:7: campaigns[0].subject: unknown field (allowed here: " in output


def test_an_unknown_type_with_good_common_fields_reports_the_type_alone(repo: Repo) -> None:
    repo.write("manifests/a.yaml", SMS_SIMPLE.replace("campaignType: sms", "campaignType: email"))
    code, output = run(repo, "validate")
    assert code == 1
    line = numbered(SMS_SIMPLE, "campaignType")
    assert (
        output
        == f"Error: manifests/a.yaml:{line}: campaigns[0].campaignType: must be sms or voice, got 'email'\n"
    )
