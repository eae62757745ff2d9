"""YAML front matter read with its size bounded, before any of it is expanded or built.

PyYAML's safe loader, with three bounds an issue's front matter never comes near and a hostile
file passes at once: aliases (a few hundred bytes of nested `&anchor`/`*alias` can stand for
millions of values, "billion laughs"), the values they expand to, and nesting (the composer
recurses once per list or mapping inside another, so `[[[…]]]` 100,000 deep raised
RecursionError). Each is refused as an IssueFormatError naming the file and the line.

A value that cannot be built (`date: 2026-02-30`, which YAML reads as a timestamp) is refused at
its own line, naming its key: not at the front matter's first line, where the error would send
the editor looking at the wrong field.
"""

from __future__ import annotations

from typing import Any

import yaml

from mailer.content.errors import IssueFormatError

MAX_YAML_ALIASES = 20
MAX_YAML_VALUES = 1_000
MAX_YAML_DEPTH = 20  # lists or mappings inside one another; the front matter with its partner: 2


class _Unreadable(Exception):
    """A value node whose Python value could not be built, and why."""

    def __init__(self, node: yaml.Node, reason: Exception) -> None:
        super().__init__(str(reason))
        self.node, self.reason = node, reason


class _DepthBoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing collections nested past MAX_YAML_DEPTH as it composes.

    Its scanner and parser keep their state in lists, but the composer recurses once per
    nested list or mapping: `[[[…]]]` 100,000 deep raised RecursionError, not a format error."""

    def __init__(self, text: str, first_line: int, path: str | None) -> None:
        super().__init__(text)
        self.depth = 0
        self.first_line, self.path = first_line, path

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if not self.check_event(yaml.CollectionStartEvent):
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        if self.depth >= MAX_YAML_DEPTH:
            mark = self.peek_event().start_mark
            raise IssueFormatError(
                f"the front matter nests lists or mappings more than {MAX_YAML_DEPTH} levels "
                "deep (`[`, `{` or indented `- ` and `key:` lines inside one another); write "
                "the value as plain text",
                path=self.path,
                line=self.first_line + mark.line,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """The node's value; one that cannot be built is raised with the node, so the error
        can name its line (the innermost node: nested values are built through here too)."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise _Unreadable(node, exc) from None


def load_bounded(text: str, first_line: int, path: str | None) -> tuple[yaml.Node | None, Any]:
    """Compose the YAML, bound its nesting, aliases and expanded size, then build the Python
    values from the one composed tree (never expanding what was refused)."""
    loader = _DepthBoundedLoader(text, first_line, path)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        aliases, values = _expansion(node)
        if aliases > MAX_YAML_ALIASES or values > MAX_YAML_VALUES:
            raise IssueFormatError(
                f"the front matter uses {aliases} YAML aliases (*name) standing for {values:,} "
                f"values; at most {MAX_YAML_ALIASES} aliases and {MAX_YAML_VALUES:,} values are "
                "read: write the values out instead of repeating anchors",
                path=path,
                line=first_line,
            )
        try:
            return node, loader.construct_document(node)
        except _Unreadable as bad:
            key = _key_of(node, bad.node)
            what = f"`{key}:`" if key else "a value in the front matter"
            found = f" (found {bad.node.value!r})" if isinstance(bad.node.value, str) else ""
            raise IssueFormatError(
                f"{what} cannot be read: {bad.reason}{found}",
                path=path,
                line=first_line + bad.node.start_mark.line,
            ) from None
    finally:
        loader.dispose()


def _key_of(root: yaml.Node, target: yaml.Node) -> str | None:
    """The mapping key whose value is `target` (at any depth), None when there is none."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if value is target and isinstance(key, yaml.ScalarNode):
                    return str(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _expansion(root: yaml.Node) -> tuple[int, int]:
    """(alias uses, values once every alias is expanded), in time linear in the tree's size.

    A recursive anchor (`&a [*a]`) expands forever: counted as more than the bound."""
    sizes: dict[int, int] = {}
    aliases = 0
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        nonlocal aliases
        key = id(node)
        if key in sizes:
            aliases += 1
            return sizes[key]
        if key in active:
            aliases += 1
            return MAX_YAML_VALUES + 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = min(total, 10 * MAX_YAML_VALUES)  # no huge integers either
        return sizes[key]

    total = size(root)  # first: the walk is what counts the aliases
    return aliases, total
