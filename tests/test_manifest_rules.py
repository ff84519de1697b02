"""Every manifest rule, as a table of good and bad manifests run through `campaign-sync validate`.

Each bad case edits one line of a valid base manifest and marks the line the error must point
at with ``#!``; the test asserts exit 1 and ``manifests/case.yaml:<that line>: <field>: <message>``.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from campaign_sync.cli import cli
from tests.conftest import Repo

SMS_ADVANCED = """\
campaigns:
  - key: interactive-support
    campaignType: sms
    name: Interactive Support SMS Campaign
    description: Chat-enabled SMS support
    contactLists: [CL Only 2020 Dec 4]
    dncLists: {name: testdnc}
    priority: 5
    format: advanced
    experienceFlowName: SMS Support Flow
    dialingStrategy:
      callerId: {phoneNumber: "+919876543210"}
      callingHours:
        frequency: WEEKLY
        timezone: Asia/Kolkata
        days:
          - {day: MO, start: "9:00 AM", end: "6:00 PM"}
    schedule: {isSchedulingEnabled: false}
"""

SMS_SIMPLE = """\
campaigns:
  - key: bill-reminder
    campaignType: sms
    name: Bill Reminder
    description: Due date reminder
    contactLists: [CL Only 2020 Dec 4]
    priority: "3"
    format: simple
    message:
      message: "Your bill is due on Friday"
    dialingStrategy:
      callerId: {phoneNumber: "+14155550100"}
      callingHours:
        frequency: DAILY
        timezone: America/New_York
        days:
          - {day: FR, start: "10:00 AM", end: "3:00 PM"}
"""

VOICE_PREVIEW = """\
campaigns:
  - key: collections
    campaignType: voice
    name: Collections Preview
    description: Overdue balances
    contactLists: [CL Only 2020 Dec 4]
    dncLists: {name: DNC CL Dec 4}
    priority: 2
    dialingMode: Preview
    queueName: Support Queue
    maxSkips: 2
    dialingStrategy:
      callerId: {phoneNumber: "+14155550124"}
      dialingOrder: FIFO
      maxAttemptsPerRecord: 2
      defaultRetryPeriod: 120
      maxRingTime: 40
      callingHours:
        frequency: WEEKLY
        timezone: America/Chicago
        days:
          - {day: TU, start: "10:00 AM", end: "4:00 PM"}
"""

VOICE_AGENTLESS = """\
campaigns:
  - key: feedback
    campaignType: voice
    name: Product Feedback
    description: Survey
    contactLists: [CL Only 2020 Dec 4]
    dncLists: {name: DNC CL Dec 4}
    priority: 5
    dialingMode: Agentless
    experienceFlowName: Voice Flow 2
    dialingStrategy:
      callerId: {phoneNumber: "+14846550100"}
      dialingOrder: FIFO
      maxAttemptsPerRecord: 3
      defaultRetryPeriod: 10
      maxRingTime: 30
      callingHours:
        frequency: WEEKLY
        timezone: Asia/Kolkata
        days:
          - {day: MO, start: "9:00 AM", end: "6:00 PM"}
"""


def edit(base: str, *pairs: tuple[str, str]) -> str:
    text = base
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


GOOD = {
    "sms-advanced": SMS_ADVANCED,
    "sms-simple": SMS_SIMPLE,
    "sms-template": edit(
        SMS_SIMPLE, ('      message: "Your', '      templateName: Welcome\n      message: "Your')
    ),
    "sms-template-api-spelling": edit(
        SMS_SIMPLE, ('      message: "Your', '      template_name: Welcome\n      message: "Your')
    ),
    "voice-preview": VOICE_PREVIEW,
    "voice-agentless": VOICE_AGENTLESS,
    "voice-agentless-amd": edit(
        VOICE_AGENTLESS, ("    dialingStrategy:", "    enableMachineDetect: detect\n    dialingStrategy:")
    ),
    "voice-progressive-api-spelling": edit(
        VOICE_PREVIEW,
        ("dialingMode: Preview", "dialingMode: Progressive"),
        ("    queueName: Support Queue\n    maxSkips: 2\n", "    queue_name: Support Queue\n"),
    ),
    "priority-as-string": edit(SMS_ADVANCED, ("priority: 5", 'priority: "5"')),
    "lower-case-time-and-leading-zero": edit(SMS_ADVANCED, ('start: "9:00 AM"', 'start: "09:00 am"')),
    "lower-case-enums": edit(
        SMS_ADVANCED, ("frequency: WEEKLY", "frequency: weekly"), ("day: MO", "day: mo")
    ),
    "several-windows-a-day": edit(
        SMS_ADVANCED,
        (
            '          - {day: MO, start: "9:00 AM", end: "6:00 PM"}',
            '          - {day: MO, start: "9:00 AM", end: "12:00 PM"}\n'
            '          - {day: MO, start: "1:00 PM", end: "6:00 PM"}',
        ),
    ),
    "ten-contact-lists": edit(
        SMS_ADVANCED, ("[CL Only 2020 Dec 4]", "[" + ", ".join(f"L{i}" for i in range(10)) + "]")
    ),
    "name-48-chars": edit(SMS_ADVANCED, ("name: Interactive Support SMS Campaign", "name: " + "n" * 48)),
    "phone-with-spaces": edit(SMS_ADVANCED, ('"+919876543210"', '"+91 98765 43210"')),
    "empty-file": "",
    "comment-only": "# nothing here yet\n",
}

# (case id, base, edits, expected field path, expected message fragment)
BAD: list[tuple[str, str, list[tuple[str, str]], str, str]] = [
    (
        "key-missing",
        SMS_ADVANCED,
        [("  - key: interactive-support\n", "  - campaignType: sms #!\n"), ("    campaignType: sms\n", "")],
        "campaigns[0].key",
        "required",
    ),
    (
        "key-pattern",
        SMS_ADVANCED,
        [("key: interactive-support", "key: Interactive Support #!")],
        "campaigns[0].key",
        "must match",
    ),
    (
        "campaign-type-unknown",
        SMS_ADVANCED,
        [("campaignType: sms", "campaignType: email #!")],
        "campaigns[0].campaignType",
        "must be sms or voice",
    ),
    (
        "name-too-long",
        SMS_ADVANCED,
        [("name: Interactive Support SMS Campaign", "name: " + "n" * 49 + " #!")],
        "campaigns[0].name",
        "at most 48 characters",
    ),
    (
        "name-empty",
        SMS_ADVANCED,
        [("name: Interactive Support SMS Campaign", 'name: "" #!')],
        "campaigns[0].name",
        "must not be empty",
    ),
    (
        "description-too-long",
        SMS_ADVANCED,
        [("description: Chat-enabled SMS support", "description: " + "d" * 257 + " #!")],
        "campaigns[0].description",
        "at most 256 characters",
    ),
    (
        "contact-lists-empty",
        SMS_ADVANCED,
        [("contactLists: [CL Only 2020 Dec 4]", "contactLists: [] #!")],
        "campaigns[0].contactLists",
        "at least 1 item",
    ),
    (
        "contact-lists-eleven",
        SMS_ADVANCED,
        [
            (
                "contactLists: [CL Only 2020 Dec 4]",
                "contactLists: [" + ", ".join(f"L{i}" for i in range(11)) + "] #!",
            )
        ],
        "campaigns[0].contactLists",
        "at most 10 items",
    ),
    (
        "contact-lists-duplicate",
        SMS_ADVANCED,
        [("contactLists: [CL Only 2020 Dec 4]", "contactLists: [A, a] #!")],
        "campaigns[0].contactLists",
        "twice",
    ),
    (
        "priority-six",
        SMS_ADVANCED,
        [("priority: 5", "priority: 6 #!")],
        "campaigns[0].priority",
        "must be 1..5",
    ),
    (
        "priority-zero-string",
        SMS_ADVANCED,
        [("priority: 5", 'priority: "0" #!')],
        "campaigns[0].priority",
        "must be 1..5",
    ),
    (
        "priority-boolean",
        SMS_ADVANCED,
        [("priority: 5", "priority: true #!")],
        "campaigns[0].priority",
        "must be 1..5",
    ),
    (
        "phone-not-e164",
        SMS_ADVANCED,
        [('{phoneNumber: "+919876543210"}', '{phoneNumber: "9876543210"} #!')],
        "campaigns[0].dialingStrategy.callerId.phoneNumber",
        "E.164",
    ),
    (
        "phone-unquoted-number",
        SMS_ADVANCED,
        [('{phoneNumber: "+919876543210"}', "{phoneNumber: 919876543210} #!")],
        "campaigns[0].dialingStrategy.callerId.phoneNumber",
        "E.164",
    ),
    (
        "timezone-unknown",
        SMS_ADVANCED,
        [("timezone: Asia/Kolkata", "timezone: Asia/Mumbai #!")],
        "campaigns[0].dialingStrategy.callingHours.timezone",
        "unknown time zone",
    ),
    (
        "day-unknown",
        SMS_ADVANCED,
        [('{day: MO, start: "9:00 AM", end: "6:00 PM"}', '{day: MON, start: "9:00 AM", end: "6:00 PM"} #!')],
        "campaigns[0].dialingStrategy.callingHours.days[0].day",
        "must be one of",
    ),
    (
        "time-24h",
        SMS_ADVANCED,
        [('{day: MO, start: "9:00 AM", end: "6:00 PM"}', '{day: MO, start: "13:00", end: "6:00 PM"} #!')],
        "campaigns[0].dialingStrategy.callingHours.days[0].start",
        "h:mm AM|PM",
    ),
    (
        "time-unquoted-sexagesimal",
        SMS_ADVANCED,
        [('{day: MO, start: "9:00 AM", end: "6:00 PM"}', '{day: MO, start: 10:00, end: "6:00 PM"} #!')],
        "campaigns[0].dialingStrategy.callingHours.days[0].start",
        "h:mm AM|PM",
    ),
    (
        "start-after-end",
        SMS_ADVANCED,
        [('start: "9:00 AM", end: "6:00 PM"}', 'start: "6:00 PM", end: "9:00 AM"} #!')],
        "campaigns[0].dialingStrategy.callingHours.days[0]",
        "must be before end",
    ),
    (
        "start-equals-end",
        SMS_ADVANCED,
        [('start: "9:00 AM", end: "6:00 PM"}', 'start: "9:00 AM", end: "9:00 AM"} #!')],
        "campaigns[0].dialingStrategy.callingHours.days[0]",
        "must be before end",
    ),
    (
        "days-empty",
        SMS_ADVANCED,
        [('        days:\n          - {day: MO, start: "9:00 AM", end: "6:00 PM"}', "        days: [] #!")],
        "campaigns[0].dialingStrategy.callingHours.days",
        "at least 1 item",
    ),
    (
        "frequency-unknown",
        SMS_ADVANCED,
        [("frequency: WEEKLY", "frequency: MONTHLY #!")],
        "campaigns[0].dialingStrategy.callingHours.frequency",
        "must be one of",
    ),
    (
        "format-unknown",
        SMS_ADVANCED,
        [("format: advanced", "format: fancy #!")],
        "campaigns[0].format",
        "must be simple | advanced",
    ),
    (
        "format-missing",
        SMS_ADVANCED,
        [("  - key: interactive-support", "  - key: interactive-support #!"), ("    format: advanced\n", "")],
        "campaigns[0]",
        "format: required",
    ),
    (
        "advanced-without-flow",
        SMS_ADVANCED,
        [
            ("  - key: interactive-support", "  - key: interactive-support #!"),
            ("    experienceFlowName: SMS Support Flow\n", ""),
        ],
        "campaigns[0].experienceFlowName",
        "required",
    ),
    (
        "advanced-with-message",
        SMS_ADVANCED,
        [("    format: advanced", "    format: advanced\n    message: {message: hi} #!")],
        "campaigns[0].message",
        "unknown field",
    ),
    (
        "simple-without-message",
        SMS_SIMPLE,
        [
            ("  - key: bill-reminder", "  - key: bill-reminder #!"),
            ('    message:\n      message: "Your bill is due on Friday"\n', ""),
        ],
        "campaigns[0].message",
        "required",
    ),
    (
        "simple-with-flow",
        SMS_SIMPLE,
        [("    format: simple", "    format: simple\n    experienceFlowName: X #!")],
        "campaigns[0].experienceFlowName",
        "unknown field",
    ),
    (
        "template-empty-name",
        SMS_SIMPLE,
        [('      message: "Your', '      templateName: "" #!\n      message: "Your')],
        "campaigns[0].message.templateName",
        "must not be empty",
    ),
    (
        "unknown-field-typo",
        SMS_ADVANCED,
        [("    description:", "    descripton: x #!\n    description:")],
        "campaigns[0].descripton",
        "did you mean 'description'",
    ),
    (
        "unknown-nested-field",
        SMS_ADVANCED,
        [("        frequency: WEEKLY", "        frequency: WEEKLY\n        tz: UTC #!")],
        "campaigns[0].dialingStrategy.callingHours.tz",
        "unknown field",
    ),
    (
        "schedule-yes-is-not-boolean",
        SMS_ADVANCED,
        [("schedule: {isSchedulingEnabled: false}", "schedule: {isSchedulingEnabled: yes} #!")],
        "campaigns[0].schedule.isSchedulingEnabled",
        "must be true or false",
    ),
    (
        "voice-without-dnc",
        VOICE_PREVIEW,
        [("  - key: collections", "  - key: collections #!"), ("    dncLists: {name: DNC CL Dec 4}\n", "")],
        "campaigns[0].dncLists",
        "required",
    ),
    (
        "voice-mode-unknown",
        VOICE_PREVIEW,
        [("dialingMode: Preview", "dialingMode: Power #!")],
        "campaigns[0].dialingMode",
        "Agentless | Progressive | Preview",
    ),
    (
        "voice-preview-without-queue",
        VOICE_PREVIEW,
        [("  - key: collections", "  - key: collections #!"), ("    queueName: Support Queue\n", "")],
        "campaigns[0].queueName",
        "required",
    ),
    (
        "voice-preview-without-max-skips",
        VOICE_PREVIEW,
        [("  - key: collections", "  - key: collections #!"), ("    maxSkips: 2\n", "")],
        "campaigns[0].maxSkips",
        "required",
    ),
    (
        "voice-max-skips-string",
        VOICE_PREVIEW,
        [("maxSkips: 2", 'maxSkips: "2" #!')],
        "campaigns[0].maxSkips",
        "whole number",
    ),
    (
        "voice-attempts-zero",
        VOICE_PREVIEW,
        [("maxAttemptsPerRecord: 2", "maxAttemptsPerRecord: 0 #!")],
        "campaigns[0].dialingStrategy.maxAttemptsPerRecord",
        "must be 1..100",
    ),
    (
        "voice-attempts-101",
        VOICE_PREVIEW,
        [("maxAttemptsPerRecord: 2", "maxAttemptsPerRecord: 101 #!")],
        "campaigns[0].dialingStrategy.maxAttemptsPerRecord",
        "must be 1..100",
    ),
    (
        "voice-retry-1441",
        VOICE_PREVIEW,
        [("defaultRetryPeriod: 120", "defaultRetryPeriod: 1441 #!")],
        "campaigns[0].dialingStrategy.defaultRetryPeriod",
        "must be 1..1440",
    ),
    (
        "voice-ring-4",
        VOICE_PREVIEW,
        [("maxRingTime: 40", "maxRingTime: 4 #!")],
        "campaigns[0].dialingStrategy.maxRingTime",
        "must be 5..120",
    ),
    (
        "voice-ring-121",
        VOICE_PREVIEW,
        [("maxRingTime: 40", "maxRingTime: 121 #!")],
        "campaigns[0].dialingStrategy.maxRingTime",
        "must be 5..120",
    ),
    (
        "voice-dialing-order",
        VOICE_PREVIEW,
        [("dialingOrder: FIFO", "dialingOrder: RANDOM #!")],
        "campaigns[0].dialingStrategy.dialingOrder",
        "must be one of",
    ),
    (
        "voice-missing-dialing-order",
        VOICE_PREVIEW,
        [("      dialingOrder: FIFO\n", ""), ("    dialingStrategy:", "    dialingStrategy: #!")],
        "campaigns[0].dialingStrategy.dialingOrder",
        "required",
    ),
    (
        "agentless-without-flow",
        VOICE_AGENTLESS,
        [("  - key: feedback", "  - key: feedback #!"), ("    experienceFlowName: Voice Flow 2\n", "")],
        "campaigns[0].experienceFlowName",
        "required",
    ),
    (
        "agentless-amd-unknown",
        VOICE_AGENTLESS,
        [("    dialingStrategy:", "    enableMachineDetect: maybe #!\n    dialingStrategy:")],
        "campaigns[0].enableMachineDetect",
        "must be one of",
    ),
    (
        "progressive-with-amd",
        VOICE_PREVIEW,
        [
            ("dialingMode: Preview", "dialingMode: Progressive"),
            ("    maxSkips: 2\n", "    enableMachineDetect: detect #!\n"),
        ],
        "campaigns[0].enableMachineDetect",
        "unknown field",
    ),
    (
        "sms-with-voice-fields",
        SMS_ADVANCED,
        [("      callerId:", "      maxRingTime: 30 #!\n      callerId:")],
        "campaigns[0].dialingStrategy.maxRingTime",
        "unknown field",
    ),
    (
        "campaign-not-a-mapping",
        SMS_ADVANCED,
        [("campaigns:\n", "campaigns:\n  - just a string #!\n")],
        "campaigns[0]",
        "must be a mapping",
    ),
    (
        "top-level-unknown",
        SMS_ADVANCED,
        [("campaigns:\n", "campaign: [] #!\ncampaigns:\n")],
        "campaign",
        "unknown top-level key",
    ),
]


def _run(repo: Repo, text: str) -> tuple[int, str]:
    repo.write("manifests/case.yaml", text)
    result = CliRunner().invoke(cli, ["--config", str(repo.root / "campaign-sync.yaml"), "validate"])
    return result.exit_code, result.output


@pytest.mark.parametrize("text", list(GOOD.values()), ids=list(GOOD))
def test_good_manifest_validates(repo: Repo, text: str) -> None:
    code, output = _run(repo, text)
    assert code == 0, output
    assert output.startswith("OK: ")


@pytest.mark.parametrize(("base", "edits", "field", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_manifest_names_file_line_field(
    repo: Repo, base: str, edits: list[tuple[str, str]], field: str, message: str
) -> None:
    text = edit(base, *edits)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "#!" in row)
    code, output = _run(repo, text)
    assert code == 1, output
    expected = f"manifests/case.yaml:{line}: {field}: "
    rows = [row for row in output.splitlines() if expected in row]
    assert rows, f"expected {expected!r} in:\n{output}"
    assert any(message in row for row in rows), output
    assert "Traceback" not in output


def test_bad_table_is_large_enough() -> None:
    assert len(BAD) + len(GOOD) >= 30
    assert len({c[0] for c in BAD}) == len(BAD)
