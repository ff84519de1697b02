"""Templates render under limits enforced while rendering (SPEC 7): each payload ends in a clear
error naming the template and line, checked by the counts the budget kept, never by wall time."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from campaign_sync.cli import cli
from campaign_sync.errors import Issue
from campaign_sync.manifests.templates import Limits, render, template_environment
from tests.conftest import Repo
from tests.test_templates import TEMPLATE

SMALL = Limits(iterations=1_000, calls=500, output_bytes=10_000, value_chars=100_000, items=10_000)


def run(tmp_path: Path, source: str, limits: Limits = SMALL, clock=None):  # type: ignore[no-untyped-def]
    (tmp_path / "t.yaml.j2").write_text(source)
    env = template_environment(tmp_path, limits, clock) if clock else template_environment(tmp_path, limits)
    return render(env, tmp_path, "t.yaml.j2", {"environment": "prod"}), env.budget


def message(result: object) -> str:
    assert isinstance(result, Issue), f"rendered instead of stopping: {str(result)[:80]!r}"
    return str(result)


def test_nested_loops_stop_at_the_iteration_limit(tmp_path: Path) -> None:
    result, budget = run(
        tmp_path, "a\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n"
    )
    assert "t.yaml.j2:2: template: stopped: more than 1,000 loop iterations" in message(result)
    assert budget.iterations == SMALL.iterations + 1  # stopped at the first iteration past the limit


def test_loops_over_anything_are_counted(tmp_path: Path) -> None:
    result, budget = run(
        tmp_path, "{% set s = 'x' * 100 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}"
    )
    assert "loop iterations" in message(result)
    assert budget.iterations == SMALL.iterations + 1


def test_the_default_limit_stops_the_reported_nested_range_loops(tmp_path: Path) -> None:
    result, budget = run(
        tmp_path, "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", Limits()
    )
    assert "more than 1,000,000 loop iterations" in message(result)
    assert budget.iterations == 1_000_001


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 'A' * 2000000000 }}", "'*' would build a value of 2,000,000,000 characters"),
        ("{{ 2000000000 * 'A' }}", "'*' would build a value of 2,000,000,000 characters"),
        ("{{ [1] * 1000000000 }}", "'*' would build 1,000,000,000 items"),
        ("{{ 2 ** 1000000000 }}", "'**' would build a number"),
        ("{% set s = 'A' * 60000 %}{{ s + s }}", "'+' would build a value of 120,000 characters"),
        ("{% set s = 'A' * 60000 %}{{ s ~ s }}", "'~' would build a value of 120,000 characters"),
        ("{{ '%2000000000d' % 1 }}", "'%' would build a value of 2,000,000,000 characters"),
        ("{{ '%*d' % (5, 1) }}", "a '*' width in a format is not allowed"),
        ("{{ '{:>2000000000}'.format(1) }}", "format() would build a value of 2,000,000,000 characters"),
        ("{{ 'x'.ljust(10000000000) }}", "ljust() would build a value of 10,000,000,000 characters"),
        ("{{ 'x' | center(1000000000) }}", "|center would build a value of 1,000,000,000 characters"),
        ("{{ 'x' | indent(1000000000) }}", "|indent would build a value"),
        ("{{ '%2000000000s' | format('a') }}", "|format would build a value of 2,000,000,000 characters"),
        (
            "{% set s = 'a' * 1000 %}{{ s | replace('a', 'b' * 1000) }}",
            "|replace would build a value of 1,000,000 characters",
        ),
        ("{% set s = 'a' * 1000 %}{{ s.replace('a', 'b' * 1000) }}", "replace() would build a value"),
        ("{% set s = 'a' * 60000 %}{{ [s, s] | join }}", "|join would build a value of 120,000 characters"),
        (
            "{% set s = 'a' * 60000 %}{{ ''.join([s, s]) }}",
            "join() would build a value of 120,000 characters",
        ),
        ("{{ lipsum(1000000) }}", "lipsum() makes at most 100 paragraphs"),
    ],
)
def test_values_too_big_are_refused_before_they_are_built(tmp_path: Path, source: str, expected: str) -> None:
    result, _budget = run(tmp_path, "campaigns:\n" + source + "\n")
    text = message(result)
    assert text.startswith("t.yaml.j2:2: template: stopped: "), text
    assert expected in text


def test_doubling_a_string_stops_at_the_value_limit(tmp_path: Path) -> None:
    source = "{% set s = 'A' * 1000 %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}"
    assert "'~' would build a value of 128,000 characters" in message(run(tmp_path, source)[0])


def test_output_is_counted_as_it_is_generated(tmp_path: Path) -> None:
    result, budget = run(tmp_path, "{% for i in range(900) %}{{ 'A' * 1000 }}{% endfor %}")
    assert "rendered output is larger than" in message(result)
    assert SMALL.output_bytes < budget.output_bytes <= SMALL.output_bytes + 1000
    assert budget.iterations == 11  # stopped at the eleventh kilobyte, not after 900


def test_the_default_output_cap_stops_while_rendering(tmp_path: Path) -> None:
    result, budget = run(tmp_path, "{% for i in range(10000) %}{{ 'A' * 1024 }}{% endfor %}", Limits())
    assert "rendered output is larger than 5 MB" in message(result)
    assert budget.iterations == 5 * 1024 + 1


def test_fanning_out_recursion_stops_at_the_call_limit(tmp_path: Path) -> None:
    source = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    result, budget = run(tmp_path, source)
    assert "more than 500 calls" in message(result)
    assert budget.calls == SMALL.calls + 1


def test_a_template_past_its_time_stops_without_waiting_for_it(tmp_path: Path) -> None:
    ticks = iter(range(10**9))  # a clock that moves one second on every look

    result, budget = run(
        tmp_path,
        "{% for a in range(100000) %}{% endfor %}",
        Limits(seconds=5, iterations=10**9),
        clock=lambda: float(next(ticks)),
    )
    assert "rendering took longer than 5 seconds" in message(result)
    assert budget.iterations < 100_000  # stopped long before the loop's end
    assert budget.iterations % 1024 == 0  # the deadline is looked at every 1,024 iterations


def test_an_ordinary_template_renders_within_the_limits(tmp_path: Path) -> None:
    source = (
        "{% for d in ['MO', 'TU'] %}{{ d | lower }} {{ '%05d' % 7 }} {{ '{:>3}'.format(1) }}\n{% endfor %}"
    )
    result, budget = run(tmp_path, source)
    assert result == "mo 00007   1\ntu 00007   1\n"
    assert budget.iterations == 2


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            "more than 1,000,000 loop iterations",
        ),
        ("{{ 'A' * 2000000000 }}", "would build a value of 2,000,000,000 characters"),
    ],
)
def test_validate_reports_a_template_past_its_limits_with_file_and_line(
    repo: Repo, payload: str, expected: str
) -> None:
    repo.write("manifests/t.yaml.j2", TEMPLATE.replace("CALLER", "+14155550100") + payload + "\n")
    result = CliRunner().invoke(cli, ["--config", str(repo.root / "campaign-sync.yaml"), "validate"])
    assert result.exit_code == 1, result.output
    line = TEMPLATE.count("\n") + 1
    assert f"manifests/t.yaml.j2:{line}: template: stopped: " in result.output
    assert expected in result.output
    assert "unexpected" not in result.output
