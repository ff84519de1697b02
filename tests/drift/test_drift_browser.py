"""The HTML drift report in a real browser: headless Chromium parses it and hostile names stay text.

The page comes from the real `campaign-sync drift --format html --output FILE` against the emulator,
with unmanaged campaigns named like injection attempts. Chromium's ``--dump-dom`` gives the DOM it
built; the test parses that and checks elements, not strings.
"""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.drift.conftest import CHROMIUM_FLAGS
from tests.drift.test_drift_e2e import HOSTILE, STRAY_IMG, STRAY_SCRIPT, make_mixed
from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import setup

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers.extend(name for name, _ in attrs if name.startswith("on"))
        if tag == "style":
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def dump_dom(chromium: str, page: Path, profile: Path) -> str:
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_html_report_renders_in_chromium_with_hostile_names_as_text(
    chromium: str, ws: Workspace, emulator: Emulator, tmp_path: Path
) -> None:
    setup(ws, emulator)
    make_mixed(ws, emulator)
    result = ws.run("drift", "--format", "html", "--output", "drift.html")
    assert result.code == 2, result.both
    assert result.out == "Drift: 1 changed, 1 missing, 2 pending, 3 unmanaged.\n"

    dom = Dom()
    dom.feed(dump_dom(chromium, ws.root / "drift.html", tmp_path / "profile"))
    dom.close()
    assert "body" in dom.tags
    assert "table" in dom.tags
    assert "script" not in dom.tags
    assert "img" not in dom.tags
    assert dom.handlers == []
    text = " ".join(" ".join(dom.text).split())
    assert "Drift: 1 changed, 1 missing, 2 pending, 3 unmanaged." in text
    assert "Environment test" in text
    for cid in (STRAY_SCRIPT, STRAY_IMG):
        assert HOSTILE[cid] in text, HOSTILE[cid]  # shown as the text it is
        assert cid in text
    assert "{{ 7*7 }} @here | `tick`" in text
    assert "Chat and <b>bold</b> support" in text
