"""Hostile text from the server never reaches a terminal, a log or a report raw (SPEC 7).

Escape sequences (clear screen, window title, a fake green "Apply complete!" on a line of its
own), BEL, C1 controls and bidi/zero-width characters are put in a server error message
(an emulator fault with a scripted error body), in a live campaign's name and in a live id.
The real command runs under a pseudo-terminal, in colour and without, at -vv, in every format;
what it writes (terminal, report files) must hold no hidden character raw, shown escaped instead.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
import unicodedata
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.e2e.harness import CANARY_SECRET, Emulator, Workspace, command
from tests.e2e.support import ADVANCED, BILL, base_seed, edit, setup

pytestmark = pytest.mark.e2e

PAYLOAD = (
    "\x1b[2J\x1b[H\x1b]0;pwned\x07\x9b31m\n\x1b[32mApply complete! 9 applied\x1b[0m\u202etxt.exe\u200b\u2066"
)
HOSTILE_ID = "cd-\x1b]0;pwned\x07\x1b[2J\ncd-fake"
OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")


def is_hidden(char: str) -> bool:
    """The test's own oracle: controls, format (bidi, zero-width) characters, separators."""
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}


def run_pty(ws: Workspace, *args: str, colour: bool = False) -> tuple[int, str]:
    """The real command with a pseudo-terminal as stdin, stdout and stderr; everything it wrote."""
    env = ws.env()
    if colour:
        env.pop("NO_COLOR")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*command(), *args], cwd=ws.root, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60  # a safety net for a hung child, not an assertion
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    code = proc.wait(timeout=30)
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert CANARY_SECRET not in text
    return code, text


def assert_clean(text: str, *, colour: bool = False) -> None:
    """No hidden character raw (our own colours aside); no line faked by a server newline."""
    if colour:
        assert "\x1b[32mApply complete!" not in text
        text = OUR_SGR.sub("", text)
    text = text.replace("\r\n", "\n")  # the terminal's own line discipline
    raw = sorted({f"U+{ord(c):04X}" for c in text if c not in "\n\t" and is_hidden(c)})
    assert raw == [], f"raw hidden characters reached the output: {raw}"
    assert not any(line.lstrip().startswith("Apply complete!") for line in text.splitlines())


def test_a_server_error_message_is_shown_escaped(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "description: Due date reminder", "description: Due soon")
    body = {"errors": [{"msg": PAYLOAD, "code": 400}]}
    for colour in (False, True):
        emulator.fault(method="PUT", path=BILL, statuses=[400], body=body)
        code, text = run_pty(ws, "-vv", "apply", "--auto-approve", colour=colour)
        assert code == 1, text
        assert_clean(text, colour=colour)
        assert "\\u001b[2J\\u001b[H\\u001b]0;pwned\\u0007\\u009b31m\\u000a\\u001b[32mApply complete!" in text
        assert "\\u202etxt.exe\\u200b\\u2066" in text
    assert emulator.campaign(BILL)["description"] == "Due date reminder"


def test_hostile_live_names_and_ids_are_shown_escaped_in_every_format(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator)
    body = next(c for c in base_seed()["campaigns"] if c["_id"] == BILL)
    emulator.seed({"campaigns": [dict(body, _id=HOSTILE_ID, name="Made by hand")]})
    emulator.patch(quote(HOSTILE_ID, safe=""), {"name": "Promo " + PAYLOAD})
    emulator.patch(ADVANCED, {"name": "Support " + PAYLOAD, "description": PAYLOAD})

    code, text = run_pty(ws, "-vv", "plan")
    assert code == 0, text
    assert_clean(text)
    assert "Support \\u001b[2J" in text  # the live name, shown as the field's before value

    for fmt in ("text", "json", "markdown"):
        code, text = run_pty(ws, "plan", "--format", fmt, colour=True)
        assert code == 0, text
        assert_clean(text, colour=True)

    for fmt in ("text", "json", "markdown", "html", "junit"):
        code, text = run_pty(ws, "-vv", "drift", "--format", fmt, colour=True)
        assert code == 2, text
        assert_clean(text, colour=True)
        assert "u001b" in text  # shown escaped (Markdown escapes more than the others)
        assert "pwned" in text
        report = ws.root / f"drift.{fmt}"
        result = ws.run("drift", "--format", fmt, "--output", str(report))
        assert result.code == 2, result.both
        assert_clean(report.read_text(encoding="utf-8"))

    data = json.loads((ws.root / "drift.json").read_text(encoding="utf-8"))
    assert any(u.get("id") == HOSTILE_ID for u in data.get("unmanaged", [])), "JSON keeps the true value"


def test_a_hostile_id_in_the_unmanaged_list_cannot_start_a_line(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    body = next(c for c in base_seed()["campaigns"] if c["_id"] == BILL)
    emulator.seed({"campaigns": [dict(body, _id=HOSTILE_ID, name="Made by hand")]})
    code, text = run_pty(ws, "drift")
    assert code == 0, text
    assert_clean(text)
    lines = text.replace("\r\n", "\n").splitlines()
    assert not any(line.startswith("cd-fake") for line in lines)
    assert any("cd-\\u001b]0;pwned\\u0007\\u001b[2J\\u000acd-fake" in line for line in lines)


def test_saved_plans_and_reports_are_owner_only(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator)
    edit(ws, "sms.yaml", "priority: 3", "priority: 4")
    assert ws.run("plan", "--out", "plan.json").code == 0
    report = ws.root / "drift.html"
    assert ws.run("drift", "--format", "html", "--output", str(report)).code == 2
    for path in (ws.root / "plan.json", report):
        assert Path(path).stat().st_mode & 0o777 == 0o600, path
