"""`campaign-sync drift --output-dir DIR`: every report format from one read of live.

The real command against the emulator: the journal shows the same requests as one plain drift
run, and the files agree with each other and with what each `--format` prints on its own.
"""

from __future__ import annotations

import json
import stat
import xml.etree.ElementTree as ET

import pytest

from tests.drift.test_drift_e2e import make_mixed, masked, read_only
from tests.e2e.harness import CANARY_SECRET, Emulator, Workspace
from tests.e2e.support import setup

pytestmark = pytest.mark.e2e

FILES = {
    "json": "drift.json",
    "markdown": "drift.md",
    "html": "drift.html",
    "junit": "drift.junit.xml",
    "text": "drift.txt",
}


def requests(emulator: Emulator) -> list[tuple[str, str, str | None]]:
    return [(e["method"], e["path"], (e["body"] or {}).get("type")) for e in emulator.journal()]


def test_one_read_of_live_writes_every_format_consistently(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    make_mixed(ws, emulator)
    with read_only(ws, emulator):
        single = ws.run("drift", "--format", "json")
        assert single.code == 2, single.both
        one_run = requests(emulator)
        emulator.clear_journal()
        result = ws.run("drift", "--output-dir", "reports/nightly")
        assert result.code == 2, result.both
        assert requests(emulator) == one_run, "one refresh, the same requests as a single drift run"
        assert len(one_run) >= 2
    folder = ws.root / "reports" / "nightly"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES.values())
    texts = {fmt: (folder / name).read_text() for fmt, name in FILES.items()}
    for fmt, name in FILES.items():
        mode = stat.S_IMODE((folder / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"
        alone = ws.run("drift", "--format", fmt)
        assert masked(texts[fmt]) == masked(alone.out), f"{name} differs from drift --format {fmt}"
        assert CANARY_SECRET not in texts[fmt]
    assert masked(result.out) == masked(texts["text"]), "stdout still gets the text report"
    assert "Wrote 5 drift reports to reports/nightly" in result.err

    data = json.loads(texts["json"])
    stamp = data["generatedAt"]
    assert stamp in texts["markdown"]
    assert stamp in texts["html"]
    suite = ET.fromstring(texts["junit"].encode()).find("testsuite")  # noqa: S314 - our own output
    assert suite is not None
    assert suite.get("timestamp") == stamp.removesuffix("Z"), "one run, one time in every file"
    summary = data["summary"]
    drifted = summary["changed"] + summary["missing"] + summary["pending"]
    assert (suite.get("tests"), suite.get("failures")) == (str(summary["managed"]), str(drifted))
    assert summary["inSync"] + drifted == summary["managed"]
    line = "Drift: 1 changed, 1 missing, 2 pending, 3 unmanaged."
    for fmt in ("markdown", "html", "text"):
        assert line in texts[fmt], fmt


def test_format_and_quiet_choose_what_stdout_gets(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    make_mixed(ws, emulator)
    with read_only(ws, emulator):
        as_markdown = ws.run("drift", "--output-dir", "out", "--format", "markdown")
        quiet = ws.run("-q", "drift", "--output-dir", "quiet")
    assert as_markdown.code == quiet.code == 2
    assert masked(as_markdown.out) == masked((ws.root / "out" / "drift.md").read_text())
    assert quiet.out == "Drift: 1 changed, 1 missing, 2 pending, 3 unmanaged.\n"
    assert quiet.err == ""
    assert sorted(p.name for p in (ws.root / "quiet").iterdir()) == sorted(FILES.values())


def test_no_drift_exits_0_and_still_writes_every_file(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    (ws.root / "out").mkdir()
    (ws.root / "out" / "drift.json").write_text("stale")
    with read_only(ws, emulator):
        result = ws.run("drift", "--output-dir", "out")
    assert result.code == 0, result.both
    assert result.out.startswith("No drift.")
    assert json.loads((ws.root / "out" / "drift.json").read_text())["campaigns"] == []
    assert len(list((ws.root / "out").iterdir())) == len(FILES), "no temp files left behind"


def test_a_file_where_the_folder_should_be_is_an_error(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    (ws.root / "taken").write_text("a file")
    with read_only(ws, emulator):
        result = ws.run("drift", "--output-dir", "taken/reports")
    assert result.code == 1
    assert "Error: cannot create the report folder taken/reports" in result.err
    assert "Traceback" not in result.err
    assert result.out == ""


def test_output_and_output_dir_together_are_a_usage_error(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    with read_only(ws, emulator):
        result = ws.run("drift", "--output", "a.json", "--output-dir", "out")
    assert result.code == 1
    assert "use --output FILE or --output-dir DIR, not both" in result.err
    assert emulator.journal() == [], "refused before any request"
    assert not (ws.root / "out").exists()


def test_output_file_is_owner_only(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    with read_only(ws, emulator):
        result = ws.run("drift", "--format", "html", "--output", "drift.html")
    assert result.code == 0, result.both
    assert stat.S_IMODE((ws.root / "drift.html").stat().st_mode) == 0o600
