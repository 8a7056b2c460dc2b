"""The shape of the code, checked: no import circle between bot's packages (a circle is
what made the meeting code import the registry inside a function), the generic engine
imports no SMART tool, and only the Telegram channel imports telegram."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"


def _node(module: str) -> str:
    """A package (bot.dialog) or a top-level module (bot.config)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def imports() -> dict[str, set[tuple[str, str]]]:
    """{importing module: {(imported module, line)}} for every module of bot/, imports
    inside functions included (they hide circles; they do not break them)."""
    found: dict[str, set[tuple[str, str]]] = {}
    for path in BOT.rglob("*.py"):
        module = ".".join(path.relative_to(BOT.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.module != "bot" else \
                    [f"bot.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                found.setdefault(module, set()).add((name, f"{path.name}:{node.lineno}"))
    return found


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in imports().items():
        for target, _ in targets:
            if target.startswith("bot.") and _node(target) != _node(module):
                graph.setdefault(_node(module), set()).add(_node(target))
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            here, path = stack.pop()
            for nxt in sorted(graph.get(here, ())):
                if nxt == start:  # each circle once: from its smallest name
                    found.append([*path, start])
                elif nxt not in path and nxt > start:
                    stack.append((nxt, [*path, nxt]))
    return found


def test_no_import_circle_between_packages() -> None:
    assert circles(package_graph()) == []


def test_the_circle_check_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": {"c"}}) == []


def test_the_engine_imports_no_tool() -> None:
    """bot/dialog is the generic engine: a SMART tool's code lives in bot/tools."""
    tools = ("bot.tools", "bot.meetings", "bot.safety", "bot.places", "bot.config")
    wrong = sorted(f"{where}: {target}" for module, targets in imports().items()
                   if module.startswith("bot.dialog") for target, where in targets
                   if target.startswith(tools))
    assert wrong == []


def test_only_the_telegram_channel_imports_telegram() -> None:
    wrong = sorted(f"{module} ({where})" for module, targets in imports().items()
                   for target, where in targets
                   if target.split(".")[0] == "telegram"
                   and not module.startswith("bot.channels.telegram"))
    assert wrong == []


def test_channels_reach_the_app_only_through_the_contract() -> None:
    """Channels took the whole App and reached into its store and engine."""
    wrong = sorted(f"{module}: {target} ({where})" for module, targets in imports().items()
                   if module.startswith("bot.channels") for target, where in targets
                   if target.startswith(("bot.app", "bot.storage", "bot.dialog.engine")))
    assert wrong == []
