"""Operator files in YAML (the sharing policy, the alert rules), read field by field with every mistake
reported at its line and column, all of them at once.

The YAML is composed into nodes and walked by the caller's `YamlReader` subclass; scalars are interpreted
from their text as each field expects, never by YAML 1.1's implicit typing (which reads the country `NO` as
false, `1:30` as a number and `on` as true). Anchors, aliases, merge keys and explicit tags are refused
before composing: an operator file never needs them, and aliases are how a small file expands into a huge
one ("billion laughs"). JSON is YAML, so a JSON file is read the same way."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml

from gesher.errors import InvalidRequest
from gesher.stix.properties import show

T = TypeVar("T")
Node = Any  # yaml.Node: PyYAML ships no type information
Entries = dict[str, tuple[Node, Node]]  # key -> (key node, value node)

MAX_FILE_BYTES: Final = 1 << 20


@dataclass(frozen=True)
class Problem:
    """One mistake in a file. Line and column are 1-based; 0 means the file as a whole."""

    source: str
    line: int
    column: int
    path: str  # e.g. "rules[2].max_tlp"; "" for the document as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.column}" if self.line else self.source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class YamlFileError(InvalidRequest):
    """An operator file is not valid. `errors` lists every problem found, in file order, each as
    `source:line:col: path: message`; the message is the first of them."""

    title = "Invalid file"

    def __init__(self, problems: Sequence[Problem]) -> None:
        ordered = sorted(problems, key=lambda p: (p.line, p.column))  # stable: same place keeps its order
        if not ordered:
            raise ValueError(f"{type(self).__name__} needs at least one problem")
        self.problems = tuple(ordered)
        self.errors = [str(p) for p in ordered]
        first = ordered[0]
        self.line, self.column, self.path = first.line, first.column, first.path
        more = f" (and {len(ordered) - 1} more)" if len(ordered) > 1 else ""
        super().__init__(self.errors[0] + more, details={"errors": self.errors})


class Bad(Exception):
    """A scalar that does not fit its field; the message says why."""


def read_text(
    path: Path,
    error: Callable[[Sequence[Problem]], YamlFileError],
    what: str,
    max_bytes: int = MAX_FILE_BYTES,
) -> str:
    """A file's text: at most `max_bytes` of UTF-8, else `error` with the problem (named by the file's
    name; `what` says what kind of file it is, e.g. "policy file")."""
    source = path.name
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise error([Problem(source, 0, 0, "", f"cannot read {path}: {exc.strerror or exc}")]) from None
    if len(data) > max_bytes:
        raise error([Problem(source, 0, 0, "", f"larger than {_size(max_bytes)}, which no {what} needs")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line, column = data.count(b"\n", 0, exc.start) + 1, len(data[start : exc.start].decode()) + 1
        message = f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the {what} as UTF-8"
        raise error([Problem(source, line, column, "", message)]) from None


class YamlReader:
    """Walks a composed node tree, collecting problems rather than stopping at the first. Subclasses read
    their own sections with `mapping`, `field`, `list_field`, `items` and `value`."""

    what = "file"  # named in messages: "aliases are not allowed in a <what>"
    max_bytes = MAX_FILE_BYTES
    # The deepest the file may nest; PyYAML's composer recurses per level, so deeper nesting is refused
    # while scanning, before composing.
    max_depth = 8

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def at(self, mark: Any, path: str, message: str) -> None:
        self.problems.append(Problem(self.source, mark.line + 1, mark.column + 1, path, message))

    def error(self, node: Node, path: str, message: str) -> None:
        self.at(node.start_mark, path, message)

    # -- the document ------------------------------------------------------------------------------------

    def document(self, text: str) -> Node | None:
        """The root node of `text`, or None (with the problems recorded) if it is not one plain YAML
        document of a sensible size."""
        if len(text.encode("utf-8", "surrogatepass")) > self.max_bytes:
            message = f"larger than {_size(self.max_bytes)}, which no {self.what} needs"
            self.problems.append(Problem(self.source, 0, 0, "", message))
            return None
        try:
            if not self.scan(text):
                return None
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            self.syntax_error(exc, text)
            return None
        if root is None or (isinstance(root, yaml.ScalarNode) and root.value == "" and root.style is None):
            self.problems.append(Problem(self.source, 1, 1, "", f"the {self.what} is empty"))
            return None
        return root

    def scan(self, text: str) -> bool:
        """Refuse what the walk must never see: aliases and anchors (the composer would share one node
        between many places), explicit tags, several documents, and deep nesting."""
        before, depth, documents, what = len(self.problems), 0, 0, self.what
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                self.at(event.start_mark, "", f"aliases (*{event.anchor}) are not allowed in a {what}")
            elif isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                self.at(event.start_mark, "", f"anchors (&{event.anchor}) are not allowed in a {what}")
            if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent) and event.tag is not None:
                self.at(event.start_mark, "", f"tags ({event.tag}) are not allowed in a {what}")
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.at(event.start_mark, "", f"a {what} holds one YAML document, not several")
                    break
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > self.max_depth:
                    self.at(event.start_mark, "", f"nested more than {self.max_depth} levels deep")
                    break
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return len(self.problems) == before

    def syntax_error(self, exc: yaml.YAMLError, text: str) -> None:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        if isinstance(exc, yaml.reader.ReaderError):
            position = min(max(int(exc.position), 0), len(text))
            line = text.count("\n", 0, position) + 1
            column = position - (text.rfind("\n", 0, position) + 1) + 1
            char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
            message = f"character U+{char:04X} is not allowed in a YAML file"
            self.problems.append(Problem(self.source, line, column, "", message))
        elif mark is not None:
            problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "invalid YAML"
            self.at(mark, "", f"YAML syntax error: {problem}")
        else:
            self.problems.append(Problem(self.source, 1, 1, "", f"YAML syntax error: {exc}"))

    # -- nodes -------------------------------------------------------------------------------------------

    def mapping(
        self, node: Node, path: str, allowed: Sequence[str] | None = None, required: Collection[str] = ()
    ) -> Entries | None:
        """The entries of a mapping node: keys are plain names, each once, each one `allowed` lists."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, f"must be a mapping{found(node)}")
            return None
        entries: Entries = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if not name:
                self.error(key, path, "keys must be names")
            elif name == "<<":
                self.error(key, path, f"merge keys (<<) are not allowed in a {self.what}")
            elif name in entries:
                first = entries[name][0].start_mark.line + 1
                self.error(key, join(path, name), f"duplicate key {name!r} (first on line {first})")
            elif allowed is not None and name not in allowed:
                self.error(key, path, unknown("key", name, allowed))
            else:
                entries[name] = (key, value)
        for name in required:
            if name not in entries:
                self.error(node, path, f"missing required key {name!r}")
        return entries

    def value(self, node: Node, path: str, parse: Callable[[str], T]) -> T | None:
        """A scalar read from its text by `parse` (which raises `Bad` to refuse it)."""
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, path, f"must be a single value{found(node)}")
            return None
        if node.value == "" and node.style is None:
            self.error(node, path, "has no value")
            return None
        try:
            return parse(str(node.value))
        except Bad as exc:
            self.error(node, path, str(exc))
            return None

    def items(self, node: Node, path: str, parse: Callable[[str], T]) -> frozenset[T] | None:
        """A non-empty list of distinct values: an empty selector list would select nobody."""
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, path, f"must be a list, e.g. [a, b]{found(node)}")
            return None
        if not node.value:
            self.error(node, path, "is an empty list, which selects nothing: remove the key or list entries")
            return None
        seen: dict[T, int] = {}
        for i, item in enumerate(node.value):
            value = self.value(item, f"{path}[{i}]", parse)
            if value is not None and value in seen:
                self.error(
                    item, f"{path}[{i}]", f"{show(item.value)} is listed twice (first as [{seen[value]}])"
                )
            elif value is not None:
                seen[value] = i
        return frozenset(seen)

    def sequence(self, top: Entries, key: str, read: Callable[[Node, str], T | None]) -> list[T]:
        """The entries of the list under `key` (absent: none), each read by `read(node, path)`."""
        if key not in top:
            return []
        node = top[key][1]
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, key, f"must be a list{found(node)}")
            return []
        if not node.value:
            self.error(node, key, "is an empty list: remove it or add entries")
        read_all = (read(item, f"{key}[{i}]") for i, item in enumerate(node.value))
        return [item for item in read_all if item is not None]

    def field(self, entries: Entries, path: str, key: str, parse: Callable[[str], T]) -> T | None:
        """The value under `key` (None if absent or refused)."""
        return self.value(entries[key][1], join(path, key), parse) if key in entries else None

    def list_field(
        self, entries: Entries, path: str, key: str, parse: Callable[[str], T]
    ) -> frozenset[T] | None:
        """The list of values under `key` (None if absent or refused)."""
        return self.items(entries[key][1], join(path, key), parse) if key in entries else None


# -- helpers ---------------------------------------------------------------------------------------------


def or_default(value: T | None, default: T) -> T:
    """`value`, or `default` when it is None."""
    return default if value is None else value


def join(path: str, key: str) -> str:
    """`path.key`, or `key` at the top."""
    return f"{path}.{key}" if path else key


def found(node: Node) -> str:
    """What a node holds, for a message saying it is the wrong kind (", not a list")."""
    if isinstance(node, yaml.MappingNode):
        return ", not a mapping"
    if isinstance(node, yaml.SequenceNode):
        return ", not a list"
    if node.value == "" and node.style is None:
        return " (it is empty)"
    return f", not {show(node.value)}"


def unknown(what: str, name: str, allowed: Sequence[str]) -> str:
    """An unknown name refused, with the closest allowed one ("did you mean") and all of them."""
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {show(name)}{hint} (allowed: {', '.join(allowed)})"


def boolean(raw: str) -> bool:
    """true or false, in any case (never YAML 1.1's yes, no, on, off)."""
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise Bad(f"must be true or false, not {show(raw)}")


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 and limit % (1 << 20) == 0 else f"{limit} bytes"
