"""Jinja2 for ``*.j2`` manifests: the immutable sandbox, includes from the repository only, limits.

A template is untrusted code. The sandbox stops it reaching Python internals; the limits here
stop it exhausting the machine. They are enforced *while* rendering, each ending in a clear
error that names the template and, where it can, its line:

* **time**: a deadline per template (``Limits.seconds``), checked at every hook below;
* **loop iterations**: every ``{% for %}`` iterates through a counter (the compiler wraps each
  loop's iterable), so nested loops stop at ``Limits.iterations`` in total;
* **calls**: macros, methods, globals and includes are counted (``Limits.calls``), which bounds
  recursion that fans out;
* **value size**: operators and calls that can build a huge value (``'A' * 2000000000``,
  ``s ~ s`` doubled, ``'%2000000000d' % 1``, ``'x'.ljust(10**10)``, ``|center(10**9)``,
  ``|join``, ``|replace``, ``2 ** 10**9``) are checked *before* they run (``Limits.value_chars``,
  ``Limits.items``, ``Limits.int_bits``);
* **output size**: the output is generated chunk by chunk and counted as it comes; rendering
  stops past ``Limits.output_bytes`` (5 MB).

A ``MemoryError`` that still happens is reported as a limit, never as "unexpected".
"""

from __future__ import annotations

import functools
import re
import string
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from campaign_sync.errors import Issue, Location

TEMPLATE_VAR_PREFIX = "CAMPAIGN_SYNC_VAR_"
_LOOP_FILTER = "_campaign_sync_counted"


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0
    output_bytes: int = 5 * 1024 * 1024
    iterations: int = 1_000_000
    calls: int = 1_000_000
    value_chars: int = 5 * 1024 * 1024
    items: int = 1_000_000
    int_bits: int = 100_000


class LimitExceeded(Exception):
    """A template ran past one of its limits (the message says which)."""


class Budget:
    """What one render has used so far; every hook charges it and checks the deadline."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.deadline = clock() + limits.seconds
        self.iterations = 0
        self.calls = 0
        self.output_bytes = 0

    def check_time(self) -> None:
        if self.clock() > self.deadline:
            raise LimitExceeded(f"rendering took longer than {self.limits.seconds:g} seconds (the limit)")

    def iteration(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.iterations:
            raise LimitExceeded(
                f"more than {self.limits.iterations:,} loop iterations (the limit); "
                "are loops nested too deep?"
            )
        if not self.iterations % 1024:
            self.check_time()

    def call(self) -> None:
        self.calls += 1
        if self.calls > self.limits.calls:
            raise LimitExceeded(f"more than {self.limits.calls:,} calls (the limit); is a macro recursing?")
        self.check_time()

    def output(self, chunk: str) -> None:
        self.output_bytes += len(chunk.encode("utf-8", "surrogatepass"))
        if self.output_bytes > self.limits.output_bytes:
            raise LimitExceeded(f"rendered output is larger than {self.limits.output_bytes / 2**20:g} MB")
        self.check_time()

    # Sizes of values about to be built.
    def chars(self, size: float, what: str) -> None:
        if size > self.limits.value_chars:
            raise LimitExceeded(
                f"{what} would build a value of {size:,.0f} characters, over the limit of "
                f"{self.limits.value_chars:,}"
            )

    def count(self, size: float, what: str) -> None:
        if size > self.limits.items:
            raise LimitExceeded(
                f"{what} would build {size:,.0f} items, over the limit of {self.limits.items:,}"
            )

    def bits(self, size: float, what: str) -> None:
        if size > self.limits.int_bits:
            raise LimitExceeded(f"{what} would build a number of {size:,.0f} bits, over the limit")


class _RepoLoader(jinja2.BaseLoader):
    """Loads templates (and their includes) only from inside the repository."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        import os

        pure = PurePosixPath(template)
        if pure.is_absolute() or ".." in pure.parts or "\\" in template:
            raise jinja2.TemplateNotFound(
                f"{template} (templates may only include files inside the repository)"
            )
        path = self.root / pure
        real_root = os.path.realpath(self.root)
        if not path.is_file() or os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
            raise jinja2.TemplateNotFound(template)
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
        return text, str(path), lambda: path.stat().st_mtime == mtime


class _Generator(CodeGenerator):
    """Compiles templates so every loop iterates through the budget and ``~`` is size-checked."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat_checked((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


#: Filters whose integer arguments are sizes (widths, counts), by argument position and name.
_SIZE_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "center": ("width",),
    "indent": ("width",),
    "wordwrap": ("width",),
    "truncate": ("length", "leeway"),
    "batch": ("linecount",),
    "slice": ("slices",),
    "tojson": ("indent",),
    "replace": ("old", "new", "count"),
}
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})


def _length(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the render limits of this module (see its docstring)."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, root: Path, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(
            loader=_RepoLoader(root),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.limits = limits
        self.clock = clock
        self.budget = Budget(limits, clock)
        self.filters = {name: self._checked_filter(name, f) for name, f in self.filters.items()}
        self.filters[_LOOP_FILTER] = self._counted

    def start(self) -> Budget:
        """A fresh budget for the next template."""
        self.budget = Budget(self.limits, self.clock)
        return self.budget

    # --- loops ---------------------------------------------------------------------------
    def _counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = self.budget
        for item in iterable:
            budget.iteration()
            yield item

    # --- operators -----------------------------------------------------------------------
    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = self.budget
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int) and isinstance(seq, str | bytes):
                    budget.chars(len(seq) * times, "'*'")
                elif isinstance(times, int) and isinstance(seq, list | tuple):
                    budget.count(len(seq) * times, "'*'")
            if isinstance(left, int) and isinstance(right, int):
                budget.bits(left.bit_length() + right.bit_length(), "'*'")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            if abs(left) > 1:
                budget.bits(right * left.bit_length(), "'**'")
        elif operator == "+":
            if isinstance(left, str | bytes) and isinstance(right, str | bytes):
                budget.chars(len(left) + len(right), "'+'")
            elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
                budget.count(len(left) + len(right), "'+'")
        elif operator == "%" and isinstance(left, str):
            self._check_percent(left, "'%'")
        return super().call_binop(context, operator, left, right)

    def concat_checked(self, parts: Iterable[Any]) -> str:
        texts = [str(p) for p in parts]
        self.budget.chars(sum(len(s) for s in texts), "'~'")
        return "".join(texts)

    def _check_percent(self, template: str, what: str) -> None:
        for match in _PERCENT.finditer(template):
            for size in match.groups():
                if size == "*":
                    raise LimitExceeded(f"{what}: a '*' width in a format is not allowed in templates")
                if size is not None:
                    self.budget.chars(int(size), what)

    def _check_format(self, template: str, what: str) -> None:
        for _text, _name, spec, _conversion in string.Formatter().parse(template):
            if not spec:
                continue
            if "{" in spec:
                raise LimitExceeded(f"{what}: nested fields in a format spec are not allowed in templates")
            for size in re.findall(r"\d+", spec):
                self.budget.chars(int(size), what)

    # --- calls ---------------------------------------------------------------------------
    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = __self.budget
        budget.call()
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str | bytes):
            name = getattr(target, "__name__", "")
            if name == "join" and args:
                args = (list(args[0]), *args[1:])  # counted once, then joined
            __self._check_method(owner, name, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        __self._check_result(result, "a call")
        return result

    def _check_method(
        self, owner: str | bytes, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        budget = self.budget
        what = f"{name}()"
        first = args[0] if args else next(iter(kwargs.values()), None)
        if name in _WIDTH_METHODS and isinstance(first, int):
            budget.chars(first, what)
        elif name == "expandtabs":
            size = first if isinstance(first, int) else 8
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            budget.chars(len(owner) + tabs * size, what)
        elif name == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            if isinstance(old, str | bytes) and isinstance(new, str | bytes):
                hits = len(owner) + 1 if not old else str(owner).count(str(old))
                budget.chars(len(owner) + hits * max(len(new) - len(old), 0), what)
        elif name == "join" and args:
            items = args[0]
            budget.count(len(items), what)
            budget.chars(sum(_length(i) for i in items) + len(owner) * len(items), what)
        elif name in {"format", "format_map"} and isinstance(owner, str):
            self._check_format(owner, what)
        elif name == "translate" and args and isinstance(args[0], Mapping):
            longest = max((_length(v) for v in args[0].values()), default=1)
            budget.chars(len(owner) * max(longest, 1), what)

    def _check_result(self, result: Any, what: str) -> None:
        if isinstance(result, str | bytes):
            self.budget.chars(len(result), what)
        elif isinstance(result, list | tuple | dict | set):
            self.budget.count(len(result), what)

    def get_template(self, name: str | jinja2.Template, *args: Any, **kwargs: Any) -> jinja2.Template:
        self.budget.call()  # an include or import
        return super().get_template(name, *args, **kwargs)

    # --- filters -------------------------------------------------------------------------
    def _checked_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        sizes = _SIZE_ARGUMENTS.get(name, ())
        passes = getattr(func, "jinja_pass_arg", None) is not None

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            budget = self.budget
            budget.check_time()
            offset = 1 if passes else 0
            value = args[offset] if len(args) > offset else None
            params = args[offset + 1 :]
            what = f"|{name}"
            for index, param in enumerate(sizes):
                given = params[index] if index < len(params) else kwargs.get(param)
                if isinstance(given, int) and not isinstance(given, bool):
                    budget.chars(abs(given), what)
            if name == "join" and value is not None and not isinstance(value, str):
                items = list(value)
                budget.count(len(items), what)
                glue = params[0] if params else kwargs.get("d", "")
                budget.chars(sum(_length(str(i)) for i in items) + _length(glue) * len(items), what)
                args = (*args[:offset], items, *params)
            elif name == "replace" and isinstance(value, str) and len(params) >= 2:
                old, new = str(params[0]), str(params[1])
                hits = len(value) + 1 if not old else value.count(old)
                budget.chars(len(value) + hits * max(len(new) - len(old), 0), what)
            elif name == "indent" and isinstance(value, str):
                width = params[0] if params else kwargs.get("width", 4)
                per = width if isinstance(width, int) else _length(width)
                budget.chars(len(value) + (value.count("\n") + 1) * per, what)
            elif name == "wordwrap" and isinstance(value, str):
                width = params[0] if params else kwargs.get("width", 79)
                glue = params[2] if len(params) > 2 else kwargs.get("wrapstring") or "\n"
                if isinstance(width, int) and width > 0:
                    budget.chars(len(value) + (len(value) // width + 1) * _length(glue), what)
            elif name == "format" and isinstance(value, str):
                self._check_percent(value, what)
            result = func(*args, **kwargs)
            self._check_result(result, what)
            return result

        return checked


def template_environment(
    root: Path, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
) -> LimitedEnvironment:
    env = LimitedEnvironment(root, limits or Limits(), clock)
    lipsum = env.globals.get("lipsum")
    if callable(lipsum):
        env.globals["lipsum"] = _bounded_lipsum(lipsum)
    return env


def _bounded_lipsum(lipsum: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(lipsum)
    def bounded(n: int = 5, *args: Any, **kwargs: Any) -> str:
        if not isinstance(n, int) or n > 100:
            raise LimitExceeded("lipsum() makes at most 100 paragraphs in a template")
        return lipsum(n, *args, **kwargs)

    return bounded


def template_context(
    variables: Mapping[str, Any], cli_vars: Mapping[str, str], environ: Mapping[str, str], environment: str
) -> dict[str, Any]:
    """What a template can see: vars, --var overrides, CAMPAIGN_SYNC_VAR_* and the environment name."""
    context: dict[str, Any] = {**variables, **cli_vars}
    context["env"] = {k: v for k, v in environ.items() if k.startswith(TEMPLATE_VAR_PREFIX)}
    context["environment"] = environment
    return context


def _template_line(exc: BaseException, filename: str) -> int:
    line = getattr(exc, "lineno", None)
    if isinstance(exc, jinja2.TemplateSyntaxError) and line:
        return int(line)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == filename and frame.lineno:
            return frame.lineno
    return 0


def render(env: LimitedEnvironment, root: Path, rel: str, context: Mapping[str, Any]) -> str | Issue:
    """Render one template within its limits: the text, or the Issue that stopped it."""
    filename = str(root / rel)
    budget = env.start()
    chunks: list[str] = []

    def issue(exc: BaseException, message: str) -> Issue:
        return Issue(Location(rel, _template_line(exc, filename)), "", f"template: {message}")

    try:
        for chunk in env.get_template(rel).generate(context):
            budget.output(chunk)
            chunks.append(chunk)
    except LimitExceeded as exc:
        return issue(exc, f"stopped: {exc}")
    except MemoryError as exc:
        return issue(exc, "stopped: it ran out of memory (a value or the output is too large)")
    except jinja2.UndefinedError as exc:
        return issue(exc, str(exc.message))
    except SecurityError as exc:
        return issue(exc, f"refused by the sandbox: {exc}")
    except jinja2.TemplateNotFound as exc:
        return issue(exc, f"cannot include {exc.message}")
    except jinja2.TemplateError as exc:
        return issue(exc, str(exc.message or exc))
    except (TypeError, ValueError, ArithmeticError, AttributeError, LookupError, RecursionError) as exc:
        return issue(exc, f"{type(exc).__name__}: {exc}")
    return "".join(chunks)


__all__ = [
    "TEMPLATE_VAR_PREFIX",
    "Budget",
    "LimitExceeded",
    "LimitedEnvironment",
    "Limits",
    "render",
    "template_context",
    "template_environment",
]
