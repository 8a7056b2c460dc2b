"""Parse YAML keeping the line of every key and item, and reject duplicate keys.

PyYAML's safe_load silently keeps the last of two equal keys and forgets where
things were; dialog authors need both caught and every error tied to a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.errors import Problem

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false. Under YAML 1.1 `on:`, `yes`
    and `no` turn into booleans, which no counsellor writing `on: {yes: thanks}` expects."""


# libyaml's parser, where PyYAML was built with it: 15 times faster on the dialogs (0.23 s
# -> 0.015 s). A file it cannot read, or with characters the Python reader refuses, is
# read again by the Python loader, whose messages the problems quote.
_Fast: type[Any] = type("_Fast", (yaml.CSafeLoader,), {}) \
    if getattr(yaml, "__with_libyaml__", False) else _Loader
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE

_loaders: list[Any] = [_Loader] if _Fast is _Loader else [_Loader, _Fast]
for _loader in _loaders:
    _loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"))


@dataclass
class Parsed:
    """Plain data (dicts, lists, scalars) plus the 1-based line of each path in it."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(self.file, self.line(path), message)


def parse(text: str, file: str) -> tuple[Parsed | None, list[Problem]]:
    """Parse one YAML document. Returns (None, problems) when it cannot be read at all."""
    node = _fast_node(text)
    if node is False:
        return _parse_slowly(text, file)
    return _parsed(node, file)


def _fast_node(text: str) -> Any:
    """The document's node with libyaml, or False when the Python loader must read it."""
    if _Fast is _Loader or _NON_PRINTABLE.search(text):
        return False
    loader = _Fast(text)
    try:
        return loader.get_single_node()
    except (yaml.YAMLError, RecursionError):
        return False
    finally:
        loader.dispose()


def _parse_slowly(text: str, file: str) -> tuple[Parsed | None, list[Problem]]:
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # checks the characters: a control character fails here
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, text, file)]
    except yaml.YAMLError as exc:  # e.g. a reader error on bad bytes
        return None, [Problem(file, 1, f"YAML syntax error: {exc}")]
    except RecursionError:
        return None, [Problem(file, 1, "the file is nested too deeply to read")]
    finally:
        if loader is not None:
            loader.dispose()
    return _parsed(node, file)


def _parsed(node: Any, file: str) -> tuple[Parsed | None, list[Problem]]:
    parsed = Parsed(file, None)
    if node is None:
        return parsed, []
    problems: list[Problem] = []
    try:
        parsed.data = _convert(node, (), parsed, problems, _Loader(""), set())
    except RecursionError:
        return None, [Problem(file, 1, "the file is nested too deeply to read")]
    return parsed, problems


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    if "another document" in problem:
        what = "expected a single document in the file: remove the second ---"
    elif ("end of stream" in problem or "<stream end>" in problem) and exc.context_mark:
        # An unclosed quote or bracket: where it opened is where to look.
        mark = exc.context_mark
        what = "a quote or bracket opened here is never closed"
    else:
        what = problem or context or "unreadable YAML"
    if "expected ',' or" in what or "mapping values are not allowed" in what:
        # The usual cause: a text with ? : , or # that needs quotes.
        what += ' (if a text contains ? : , # or quotes, put it in "double quotes")'
    last = len(text.rstrip("\n").split("\n"))
    line = min(mark.line + 1, last) if mark else 1
    return Problem(file, line, f"YAML syntax error: {what}")


def _convert(
    node: yaml.Node, path: Path, parsed: Parsed, problems: list[Problem], ctor: _Loader,
    ancestors: set[int],
) -> Any:
    parsed.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in ancestors:
        problems.append(Problem(parsed.file, parsed.line(path),
                                "an alias (*name) refers to the block that contains it"))
        return None
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, ctor)
            if not isinstance(key, str | int | float | bool) and key is not None:
                problems.append(Problem(parsed.file, key_node.start_mark.line + 1,
                                        "a key must be a plain word"))
                continue
            key = str(key) if key is not None else "null"
            child = (*path, key)
            if key in result:
                first = parsed.lines[child]
                problems.append(Problem(parsed.file, key_node.start_mark.line + 1,
                                        f"duplicate key '{key}' (first defined on line {first})"))
                continue
            parsed.lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, parsed, problems, ctor, ancestors)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), parsed, problems, ctor, ancestors)
                for i, item in enumerate(node.value)]
    return _scalar(node, ctor)


def _scalar(node: yaml.Node, ctor: _Loader) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return node  # reported by the caller as a bad key
    try:
        return ctor.construct_object(node, deep=True)
    except yaml.YAMLError:
        return node.value  # e.g. an invalid timestamp: keep the text

