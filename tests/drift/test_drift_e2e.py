"""`campaign-sync drift` end to end: the real command against the emulator.

Each test seeds the base campaigns and adopts them into state (``support.setup``), then changes
things out of band (emulator control API) or in the manifests, runs ``drift`` as a subprocess and
asserts on the exit code, the report, and the emulator's request journal. Drift is read-only:
every test also checks that no write request was made and the state file did not change.

Golden files (tests/drift/golden/<scenario>.<ext>) are compared byte for byte after two honest
substitutions: ISO timestamps become ``TIMESTAMP`` (the emulator stamps ``updatedAt`` with the wall
clock, and the report shows the run's time), and the package version becomes ``VERSION``. Set
UPDATE_GOLDEN=1 to rewrite them (then review the diff). Separate tests assert the real values.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from campaign_sync import __version__
from tests.e2e.harness import CANARY_SECRET, Emulator, Result, Workspace
from tests.e2e.support import ADVANCED, AGENTLESS, BILL, PREVIEW, base_seed, edit, setup

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).resolve().parent / "golden"
EXTENSIONS = {"text": "txt", "json": "json", "markdown": "md", "html": "html", "junit": "xml"}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?")
STRAY_SCRIPT = "cd-00000000-0000-4000-8000-000000000091"
STRAY_IMG = "cd-00000000-0000-4000-8000-000000000092"
STRAY_TEMPLATE = "cd-00000000-0000-4000-8000-000000000093"
HOSTILE = {
    STRAY_SCRIPT: "<script>alert(1)</script>",
    STRAY_IMG: '"><img src=x onerror=alert(1)>',
    STRAY_TEMPLATE: "{{ 7*7 }} @here | `tick`",
}
NEW_MANIFEST = """\
campaigns:
  - key: bill-reminder-eu
    campaignType: sms
    name: Bill Reminder EU
    description: Due date reminder
    contactLists: [CL Only 2020 Dec 4]
    priority: 3
    format: simple
    message: {message: Your bill is due on Friday}
    dialingStrategy:
      callerId: {phoneNumber: "+14155550100"}
      callingHours:
        frequency: WEEKLY
        timezone: Europe/Berlin
        days:
          - {day: MO, start: "10:00 AM", end: "5:00 PM"}
"""


def masked(text: str) -> str:
    return TIMESTAMP.sub("TIMESTAMP", text).replace(f"campaign-sync {__version__}", "campaign-sync VERSION")


def stray(cid: str, name: str) -> dict[str, Any]:
    campaign: dict[str, Any] = json.loads(json.dumps(base_seed()["campaigns"][1]))
    campaign.update(_id=cid, name=name)
    return campaign


def seed_strays(emulator: Emulator, ids: tuple[str, ...] = tuple(HOSTILE)) -> None:
    emulator.seed({"campaigns": [stray(cid, HOSTILE[cid]) for cid in ids]})


@contextmanager
def read_only(ws: Workspace, emulator: Emulator) -> Iterator[None]:
    """The block makes no write request and leaves the state file byte for byte as it was."""
    before = ws.state_bytes()
    yield
    assert emulator.writes() == []
    assert ws.state_bytes() == before


def drift(ws: Workspace, *args: str) -> Result:
    result = ws.run("drift", *args)
    assert result.code in (0, 2), result.both
    return result


def as_json(ws: Workspace, *args: str) -> dict[str, Any]:
    return dict(json.loads(drift(ws, "--format", "json", *args).out))


def gets(emulator: Emulator) -> list[str]:
    return [e["path"].rsplit("/", 1)[-1] for e in emulator.journal() if e["method"] == "GET"]


def make_mixed(ws: Workspace, emulator: Emulator) -> None:
    """One campaign of each kind, one in sync, and hostile unmanaged names."""
    emulator.patch(BILL, {"description": "Edited in the UI | @here `now`", "priority": "4"})
    emulator.delete(PREVIEW)
    edit(ws, "sms.yaml", "description: Chat-enabled SMS support", "description: Chat and <b>bold</b> support")
    ws.write("manifests/new.yaml", NEW_MANIFEST)
    seed_strays(emulator)
    emulator.clear_journal()


def test_clean_state_is_no_drift_and_costs_list_calls_only(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    with read_only(ws, emulator):
        result = drift(ws)
    assert result.code == 0
    assert result.out.startswith("No drift.")
    assert "Drift: 0 changed, 0 missing, 0 pending, 0 unmanaged." in result.out
    journal = emulator.journal()
    assert [e["method"] for e in journal] == ["POST", "POST"]
    assert all(e["path"].endswith("getAllCampaignDetails") for e in journal)
    assert sorted((e["body"] or {}).get("type") for e in journal) == ["sms", "voice"]


def test_changed_live_is_drift_with_applied_and_live_values(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.patch(BILL, {"description": "Edited in the UI", "priority": "4"})
    emulator.clear_journal()
    with read_only(ws, emulator):
        data = as_json(ws)
    (entry,) = data["campaigns"]
    assert (entry["key"], entry["kind"], entry["campaignId"]) == ("bill-reminder", "changed", BILL)
    assert entry["fields"] == [
        {
            "path": "description",
            "applied": "Due date reminder",
            "live": "Edited in the UI",
            "kinds": ["changed"],
        },
        {"path": "priority", "applied": "3", "live": "4", "kinds": ["changed"]},
    ]
    assert entry["updatedAt"] == emulator.campaign(BILL)["updatedAt"]
    assert data["summary"] == {
        "changed": 1,
        "missing": 0,
        "pending": 0,
        "unmanaged": 0,
        "inSync": 3,
        "managed": 4,
        "facets": {"changed": 1, "missing": 0, "pending": 0},
    }
    assert gets(emulator) == [BILL]  # only the campaign whose updatedAt moved is read
    assert ws.run("drift").code == 2


def test_equivalent_spelling_live_is_not_drift(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.patch(BILL, {"priority": 3, "contactLists": ["Renewals Q3", "CL Only 2020 Dec 4"]})
    emulator.clear_journal()
    with read_only(ws, emulator):
        result = drift(ws)
    assert result.code == 0, result.out
    assert gets(emulator) == [BILL]


def test_missing_when_deleted_outside_git(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.delete(PREVIEW)
    emulator.clear_journal()
    with read_only(ws, emulator):
        data = as_json(ws)
    assert [(c["key"], c["kind"], c["campaignId"]) for c in data["campaigns"]] == [
        ("collections", "missing", PREVIEW)
    ]
    assert gets(emulator) == [PREVIEW], "one GET of the id confirms the deletion (a 404)"
    assert ws.run("drift").code == 2


def test_pending_manifest_changes_need_no_read(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "voice.yaml", "maxRingTime: 40", "maxRingTime: 45")
    ws.write("manifests/new.yaml", NEW_MANIFEST)
    with read_only(ws, emulator):
        data = as_json(ws)
    assert [(c["key"], c["kind"], c.get("action")) for c in data["campaigns"]] == [
        ("bill-reminder-eu", "pending", "create"),
        ("collections", "pending", "update"),
    ]
    assert data["campaigns"][1]["fields"] == [
        {
            "path": "dialingStrategy.maxRingTime",
            "applied": 40,
            "live": 40,
            "manifest": 45,
            "kinds": ["pending"],
        }
    ]
    assert gets(emulator) == [], "live comes from the state's cached copy, still current by its updatedAt"


def test_changed_and_pending_on_one_campaign_are_one_entry_and_every_count_agrees(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    emulator.patch(BILL, {"priority": "1"})
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Pay by Friday")
    with read_only(ws, emulator):
        data = as_json(ws)
        junit = drift(ws, "--format", "junit").out
        text = drift(ws).out
    [entry] = data["campaigns"]
    assert (entry["key"], entry["kind"], entry["kinds"], entry["action"]) == (
        "bill-reminder",
        "changed",
        ["changed", "pending"],
        "update",
    )
    assert entry["fields"] == [
        {
            "path": "description",
            "applied": "Due date reminder",
            "live": "Due date reminder",
            "manifest": "Pay by Friday",
            "kinds": ["pending"],
        },
        {"path": "priority", "applied": "3", "live": "1", "kinds": ["changed"]},
    ]
    summary = data["summary"]
    assert (summary["changed"], summary["missing"], summary["pending"], summary["inSync"]) == (1, 0, 0, 3)
    assert summary["facets"] == {"changed": 1, "missing": 0, "pending": 1}
    drifted = summary["changed"] + summary["missing"] + summary["pending"]
    assert drifted == len(data["campaigns"])
    assert drifted + summary["inSync"] == summary["managed"] == 4
    suite = ET.fromstring(junit.encode()).find("testsuite")  # noqa: S314 - our own output
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    failures = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [(c.get("name"), c.find("failure").get("type")) for c in failures] == [  # type: ignore[union-attr]
        ("bill-reminder", "changed,pending")
    ]
    assert "Drift: 1 changed, 0 missing, 0 pending, 0 unmanaged; 1 of them also pending." in text
    assert "3 managed campaigns in sync." in text


def test_removed_from_the_manifests_is_pending_delete_and_read_only_when_it_moved(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    text = (ws.root / "manifests" / "voice.yaml").read_text()
    ws.write("manifests/voice.yaml", text[: text.index("  - key: product-feedback")])
    with read_only(ws, emulator):
        data = as_json(ws)
    assert [(c["key"], c["kind"], c.get("action")) for c in data["campaigns"]] == [
        ("product-feedback", "pending", "delete")
    ]
    assert gets(emulator) == []
    emulator.patch(AGENTLESS, {"description": "Edited"})
    emulator.clear_journal()
    with read_only(ws, emulator):
        data = as_json(ws)
    assert [(c["key"], c["kinds"], c.get("action")) for c in data["campaigns"]] == [
        ("product-feedback", ["changed", "pending"], "delete")
    ]
    assert gets(emulator) == [AGENTLESS]


def test_unmanaged_alone_is_listed_and_exits_0(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    seed_strays(emulator, (STRAY_SCRIPT,))
    with read_only(ws, emulator):
        result = drift(ws, "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["campaigns"] == []
    assert data["unmanaged"] == [{"id": STRAY_SCRIPT, "name": HOSTILE[STRAY_SCRIPT], "campaignType": "sms"}]
    assert data["summary"]["unmanaged"] == 1


def test_full_refresh_reads_every_managed_campaign(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    with read_only(ws, emulator):
        result = drift(ws, "--refresh", "full")
    assert result.code == 0
    assert sorted(gets(emulator)) == sorted([ADVANCED, BILL, PREVIEW, AGENTLESS])


def test_target_narrows_the_check_and_the_refresh(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.patch(BILL, {"description": "x"})
    emulator.patch(PREVIEW, {"description": "y"})
    emulator.clear_journal()
    with read_only(ws, emulator):
        data = as_json(ws, "--target", "collections")
    assert [(c["key"], c["kind"]) for c in data["campaigns"]] == [("collections", "changed")]
    assert [(e["body"] or {}).get("type") for e in emulator.journal() if e["method"] == "POST"] == ["voice"]
    assert gets(emulator) == [PREVIEW]


@pytest.mark.parametrize(
    ("prepare", "args", "message"),
    [
        ("bad-manifest", (), "manifests/sms.yaml:"),
        ("none", ("--target", "nope"), "--target nope: no such key"),
        ("none", ("--format", "pdf"), "Invalid value for '--format'"),
        ("read-fails", (), "Error:"),
        (
            "none",
            ("--output", "no/such/dir/report.html"),
            "cannot write the drift report to no/such/dir/report.html",
        ),
    ],
    ids=["invalid-manifest", "unknown-target", "unknown-format", "read-fails", "unwritable-output"],
)
def test_errors_exit_1(
    ws: Workspace, emulator: Emulator, prepare: str, args: tuple[str, ...], message: str
) -> None:
    setup(ws, emulator)
    if prepare == "bad-manifest":
        edit(ws, "sms.yaml", "priority: 3", "priority: 9")
    if prepare == "read-fails":
        emulator.patch(BILL, {"description": "force a read"})
        emulator.fault(method="GET", path=".*", statuses=[500], times=-1)
    with read_only(ws, emulator):
        result = ws.run("-vv", "drift", *args)
    assert result.code == 1, result.both
    assert message in result.err
    assert result.out == ""


def test_unreachable_api_exits_1(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    emulator.server.stop()
    result = ws.run("drift")
    assert result.code == 1
    assert "cannot reach the API" in result.err
    assert "Traceback" not in result.err


def test_output_file_gets_the_report_and_stdout_the_summary(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    make_mixed(ws, emulator)
    with read_only(ws, emulator):
        for fmt, ext in EXTENSIONS.items():
            path = ws.root / f"report.{ext}"
            result = ws.run("drift", "--format", fmt, "--output", path.name)
            assert result.code == 2, result.both
            assert result.out == "Drift: 1 changed, 1 missing, 2 pending, 3 unmanaged.\n"
            direct = ws.run("drift", "--format", fmt)
            assert masked(path.read_text()) == masked(direct.out)
            assert CANARY_SECRET not in path.read_text()


def test_golden_in_sync(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    with read_only(ws, emulator):
        check_goldens(ws, "in-sync", expected_code=0)


def test_golden_mixed(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    make_mixed(ws, emulator)
    with read_only(ws, emulator):
        outputs = check_goldens(ws, "mixed", expected_code=2)
    again = ws.run("drift", "--format", "json")
    assert masked(again.out) == masked(outputs["json"]), (
        "identical input must give identical output (bar the run's time)"
    )


def check_goldens(ws: Workspace, scenario: str, expected_code: int) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for fmt, ext in EXTENSIONS.items():
        result = ws.run("drift", "--format", fmt)
        assert result.code == expected_code, result.both
        outputs[fmt] = result.out
        expected = GOLDEN / f"{scenario}.{ext}"
        if os.environ.get("UPDATE_GOLDEN"):
            expected.write_text(masked(result.out))
        assert masked(result.out) == expected.read_text(), f"golden/{scenario}.{ext} differs:\n{result.out}"
    data = json.loads(outputs["json"])
    assert TIMESTAMP.fullmatch(data["generatedAt"])
    ET.fromstring(outputs["junit"].encode())  # noqa: S314 - our own output
    return outputs


def test_hostile_names_stay_text_in_html_and_markdown(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    seed_strays(emulator)
    emulator.patch(BILL, {"description": '"><img src=x onerror=alert(1)> @channel'})
    page = drift(ws, "--format", "html").out
    assert HOSTILE[STRAY_SCRIPT] not in page
    assert HOSTILE[STRAY_IMG] not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "{{ 7*7 }} @here | `tick`" in page  # shown as typed (autoescaped, nothing to escape here)
    assert "<img" not in page
    assert page.count("<script") == 0
    md = drift(ws, "--format", "markdown").out
    assert "<script>" not in md
    assert "<img" not in md
    assert "@here" not in md
    assert "@channel" not in md
    assert "\\| \\`tick\\`" in md
