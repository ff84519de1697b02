"""In GitHub Actions the real command announces each token with ``::add-mask::`` on stderr, and only there."""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import Emulator, Workspace
from tests.e2e.support import FLOWS_CONFIG, setup

pytestmark = pytest.mark.e2e
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MASK = re.compile(r"^::add-mask::(\S+)$", re.MULTILINE)


def test_in_github_actions_each_token_is_masked_on_stderr_and_stored_nowhere(
    ws: Workspace, emulator: Emulator
) -> None:
    setup(ws, emulator, adopt=False)
    ws.write_config(FLOWS_CONFIG)
    env = ws.env(GITHUB_ACTIONS="true")

    planned = ws.run("plan", "--out", "plan.json", env=env)
    applied = ws.run("apply", "--auto-approve", env=env)

    assert planned.code == 0, planned.both
    assert applied.code == 0, applied.both
    for result in (planned, applied):
        (token,) = MASK.findall(result.err)
        assert JWT.fullmatch(token), "the real token, not the redactor's ***"
        assert token not in result.out
        assert result.err.count(token) == 1, "announced once, and printed nowhere else"
    tokens = set(MASK.findall(planned.err + applied.err))
    for path, text in ws.files_text():
        assert not any(token in text for token in tokens), f"a token was written to {path}"
    assert ws.state_path.exists()


def test_outside_github_actions_nothing_is_announced(ws: Workspace, emulator: Emulator) -> None:
    setup(ws, emulator, adopt=False)
    ws.write_config(FLOWS_CONFIG)

    planned = ws.run("plan", env=ws.env(GITHUB_ACTIONS="false"))

    assert planned.code == 0, planned.both
    assert "::add-mask::" not in planned.both
    assert not JWT.search(planned.both)
