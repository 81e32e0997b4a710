"""`$filter` parsing, compiled once into a Python predicate over a row dict (reference §4).

Grammar (the subset the SL documents): or/and/not with parentheses, comparisons eq ne gt ge lt le,
startswith/endswith/contains/substringof, literals: 'quoted' ('' escapes a quote), numbers, null,
true/false, datetime'…'. Literals are coerced to the property's kind first, so dates ignore their
time part and times compare hours and minutes only, as the real server does.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from app.emulators.sap_b1.errors import SLError, bad_query

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
# Resolves a property name to (kind, enum map) or raises the -1000 error for unknown properties.
Resolver = Callable[[str], tuple[str, dict[str, str]]]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<dt>datetime'(?:[^']|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<num>-?\d+(?:\.\d+)?(?![\w']))
  | (?P<name>[A-Za-z_$][\w/]*)
  | (?P<punct>[(),])
)""",
    re.VERBOSE,
)
_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_FLIP = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_STRING_FUNCS = {"startswith", "endswith", "contains", "substringof"}


@dataclass(frozen=True)
class Literal:
    value: Any
    quoted: bool


@dataclass(frozen=True)
class Compiled:
    predicate: Predicate
    # (op, value) when the whole filter is a conjunction with `Key gt|ge|eq 'x'`: the store can
    # bisect its key-ordered list instead of scanning (key-set paging, reference §13).
    key_bound: tuple[str, Any] | None = None
    # Every key a row must have to match, when the filter pins the key (`Key eq 'a' or Key eq 'b'`,
    # possibly ANDed with more): the store looks those rows up instead of testing every row, as
    # the SL's primary-key index does. None when any key could match.
    key_set: frozenset[Any] | None = None


class _Node(NamedTuple):
    predicate: Predicate
    keys: frozenset[Any] | None  # candidate keys, None = unconstrained


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise bad_query(f"Invalid filter expression near '{text[pos : pos + 20]}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def compile_filter(text: str, resolve: Resolver, key: str = "", case_insensitive: bool = False) -> Compiled:
    parser = _Parser(tokenize(text), resolve, case_insensitive, key)
    node = parser.parse()
    return Compiled(node.predicate, _key_bound(parser.conjuncts, key), node.keys)


def _key_bound(conjuncts: list[tuple[str, str, Any]] | None, key: str) -> tuple[str, Any] | None:
    for name, op, value in conjuncts or []:
        if name == key and op in {"gt", "ge", "eq"} and value is not None:
            return op, value
    return None


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], resolve: Resolver, ci: bool, key: str = "") -> None:
        self.tokens = tokens
        self.pos = 0
        self.resolve = resolve
        self.ci = ci
        # Case-insensitive equality can match keys spelled differently: no key lookup then.
        self.key = "" if ci else key
        # Top-level AND-ed comparisons, kept for the key-bound optimisation; None once an
        # `or`/`not` makes them unusable.
        self.conjuncts: list[tuple[str, str, Any]] | None = []

    def parse(self) -> _Node:
        if not self.tokens:
            raise bad_query("Empty filter expression")
        node = self._or()
        if self.pos != len(self.tokens):
            raise bad_query(f"Invalid filter expression near '{self.tokens[self.pos][1]}'")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise bad_query("Unexpected end of filter expression")
        self.pos += 1
        return token

    def _accept_word(self, word: str) -> bool:
        token = self._peek()
        if token and token[0] == "name" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def _expect(self, punct: str) -> None:
        if self._next() != ("punct", punct):
            raise bad_query(f"Expected '{punct}' in filter expression")

    def _or(self) -> _Node:
        left = self._and()
        while self._accept_word("or"):
            self.conjuncts = None
            right = self._and()
            keys = None if left.keys is None or right.keys is None else left.keys | right.keys
            left = _Node(_either(left.predicate, right.predicate), keys)
        return left

    def _and(self) -> _Node:
        left = self._unary()
        while self._accept_word("and"):
            right = self._unary()
            left = _Node(_both(left.predicate, right.predicate), _intersect(left.keys, right.keys))
        return left

    def _unary(self) -> _Node:
        if self._accept_word("not"):
            self.conjuncts = None
            inner = self._unary().predicate
            return _Node(lambda row: not inner(row), None)
        if self._peek() == ("punct", "("):
            self.pos += 1
            saved = self.conjuncts
            self.conjuncts = None  # comparisons inside parentheses are not top-level
            node = self._or()
            self.conjuncts = saved
            self._expect(")")
            return node
        return self._primary()

    def _primary(self) -> _Node:
        kind, text = self._next()
        if kind == "name" and text.lower() in _STRING_FUNCS and self._peek() == ("punct", "("):
            return _Node(self._string_function(text.lower()), None)
        left = self._operand(kind, text)
        op_kind, op = self._next()
        if op_kind != "name" or op.lower() not in _COMPARE:
            raise bad_query(f"Invalid filter operator '{op}'")
        right = self._operand(*self._next())
        return self._comparison(left, op.lower(), right)

    def _operand(self, kind: str, text: str) -> str | Literal:
        if kind == "name":
            lowered = text.lower()
            if lowered == "null":
                return Literal(None, False)
            if lowered in {"true", "false"}:
                return Literal(lowered == "true", False)
            return text
        if kind in {"str", "dt"}:
            raw = text[text.index("'") + 1 : -1].replace("''", "'")
            return Literal(raw, True)
        if kind == "num":
            return Literal(float(text) if "." in text else int(text), False)
        raise bad_query(f"Invalid filter expression near '{text}'")

    def _comparison(self, left: str | Literal, op: str, right: str | Literal) -> _Node:
        if isinstance(left, Literal) and isinstance(right, str):
            left, right, op = right, left, _FLIP[op]
        if not isinstance(left, str) or not isinstance(right, Literal):
            raise bad_query("A comparison needs a property and a literal")
        kind, enum = self.resolve(left)
        value = coerce(kind, enum, right, left)
        if self.conjuncts is not None:
            self.conjuncts.append((left, op, value))
        pinned = left == self.key and op == "eq" and value is not None
        predicate = _compare(left, kind, _COMPARE[op], op, value, self.ci)
        return _Node(predicate, frozenset([value]) if pinned else None)

    def _string_function(self, name: str) -> Predicate:
        self._expect("(")
        first = self._operand(*self._next())
        self._expect(",")
        second = self._operand(*self._next())
        self._expect(")")
        if name == "substringof":  # substringof('x', Field): V3 argument order
            first, second = second, first
            name = "contains"
        if not isinstance(first, str) or not isinstance(second, Literal):
            raise bad_query(f"Invalid arguments to {name}")
        self.resolve(first)
        return _string_test(first, name, str(second.value), self.ci)


def _intersect(a: frozenset[Any] | None, b: frozenset[Any] | None) -> frozenset[Any] | None:
    if a is None:
        return b
    return a if b is None else a & b


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) or b(row)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) and b(row)


def _string_test(name: str, func: str, needle: str, ci: bool) -> Predicate:
    needle = needle.lower() if ci else needle

    def test(row: Row) -> bool:
        value = row.get(name)
        if value is None:
            return False
        text = str(value).lower() if ci else str(value)
        if func == "startswith":
            return text.startswith(needle)
        if func == "endswith":
            return text.endswith(needle)
        return needle in text

    return test


def _compare(
    name: str, kind: str, fn: Callable[[Any, Any], bool], op: str, value: Any, ci: bool
) -> Predicate:
    if value is None:  # only eq/ne make sense against null
        return (lambda row: row.get(name) is None) if op == "eq" else (lambda row: row.get(name) is not None)
    if kind == "time":
        return lambda row: (v := row.get(name)) is not None and fn(str(v)[:5], value)
    if kind == "str" and ci:
        value = str(value).lower()
        return lambda row: (v := row.get(name)) is not None and fn(str(v).lower(), value)
    return lambda row: (v := row.get(name)) is not None and fn(v, value)


def coerce(kind: str, enum: dict[str, str], literal: Literal, name: str) -> Any:
    """Turn a literal into the stored representation of a property of `kind`."""
    value = literal.value
    if value is None:
        return None
    try:
        return _COERCE[kind](value, enum)
    except (ValueError, KeyError, TypeError):
        raise SLError(400, -1000, f"Invalid value '{value}' for property '{name}'")


def normalize_date(value: Any, _enum: dict[str, str] | None = None) -> str:
    """'2025-04-23', '20250423', datetime'2025-04-23', '2025-04-23T12:21:21' → '2025-04-23'."""
    text = str(value).strip()
    digits = text[:10].replace("-", "") if "-" in text[:10] else text[:8]
    if len(digits) != 8 or not digits.isdigit():
        raise ValueError(text)
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"


def normalize_time(value: Any, _enum: dict[str, str] | None = None) -> str:
    """'18:38', '18:38:00', '1838' → '18:38' (only hours and minutes count, reference §4)."""
    text = str(value).strip()
    if "T" in text:
        text = text.split("T", 1)[1]
    digits = text.replace(":", "")[:4]
    if len(digits) < 3 or not digits.isdigit():
        raise ValueError(text)
    digits = digits.zfill(4)
    return f"{digits[:2]}:{digits[2:4]}"


def _coerce_enum(value: Any, enum: dict[str, str]) -> str:
    text = str(value)
    if text in enum.values():
        return text
    return enum[text]  # by value ('Y', 'S' …); KeyError → invalid value


def _coerce_num(value: Any, _enum: dict[str, str]) -> float:
    if isinstance(value, bool):
        raise TypeError(value)
    return float(value)  # numbers may be strings (reference §3)


def _coerce_str(value: Any, _enum: dict[str, str]) -> str:
    return str(value)


_COERCE: dict[str, Callable[[Any, dict[str, str]], Any]] = {
    "str": _coerce_str,
    "num": _coerce_num,
    "date": normalize_date,
    "time": normalize_time,
    "enum": _coerce_enum,
}
