"""Xero's ``where`` and ``order`` query languages, parsed with a lark grammar.

Supported, as Xero documents its filters: comparisons ``== != < <= > >=`` (and Xero's single
``=``), ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``, parentheses, nested fields
(``Contact.ContactID``), string, number,
``true``/``false``/``null`` literals, ``DateTime(y, m, d[, h, m, s])``, ``Guid("…")``/``GUID(…)``,
``.Contains("…")``/``.StartsWith("…")``/``.EndsWith("…")``, and ``.ToLower()``/``.ToUpper()``
on a field. A bare boolean field (``IsSupplier``) means ``IsSupplier == true``. String
comparisons are case-insensitive, as Xero's are. Anything else raises ``QueryError`` (served as
400 QueryParseException), as does a clause nested deeper than :data:`MAX_WHERE_DEPTH`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import LarkError, VisitError

from xero_sandbox.catalog import Record

__all__ = [
    "MAX_WHERE_DEPTH",
    "Predicate",
    "QueryError",
    "Where",
    "canonical_guid",
    "order_key",
    "parse_order",
    "parse_where",
    "required_equalities",
]

Predicate = Callable[[Record], bool]

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negate
         | atom
?atom: comparison
     | method
     | field -> truthy
     | "(" or_expr ")"
comparison: operand OP operand
method: (field | cased) METHOD "(" value ")"
?operand: field | cased | value
cased: field CASE "(" ")"
field: NAME ("." NAME)*
?value: STRING -> string
      | NUMBER -> number
      | NULL -> null
      | TRUE -> true
      | FALSE -> false
      | DATETIME "(" INT ("," INT)* ")" -> datetime
      | GUID "(" STRING ")" -> guid

_OR.3: /(?i:or)\b/ | "||"
_AND.3: /(?i:and)\b/ | "&&"
_NOT.3: /(?i:not)\b/ | /!(?!=)/
NULL.3: /(?i:null)\b/
TRUE.3: /(?i:true)\b/
FALSE.3: /(?i:false)\b/
DATETIME.3: /(?i:datetime)\b/
GUID.3: /(?i:guid)\b/
METHOD.4: /\.\s*(?i:contains|startswith|endswith)\b/
CASE.4: /\.\s*(?i:tolower|toupper)\b/
OP: "==" | "!=" | "<=" | ">=" | "<" | ">" | "="
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
NUMBER: /-?\d+(\.\d+)?/
INT: /\d+/
%ignore /\s+/
"""

_parser = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


class QueryError(ValueError):
    """A `where` or `order` Xero cannot parse."""


_GUID = re.compile(
    r"([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})", re.IGNORECASE
)


def canonical_guid(text: str) -> str | None:
    """A GUID in a form .NET parses (dashed, 32 digits, in braces or parentheses) as lower-case
    dashed text, or None when ``text`` is not one. pyxero sends ``IDs`` as 32 bare digits."""
    inner = text.strip()
    if inner[:1] + inner[-1:] in ("{}", "()"):
        inner = inner[1:-1]
    match = _GUID.fullmatch(inner)
    return "-".join(match.groups()).lower() if match else None


def _make_datetime(parts: list[int]) -> datetime:
    year, month, day = parts[:3]
    hour, minute, second = [*parts[3:], 0, 0, 0][:3]
    return datetime(year, month, day, hour, minute, second)  # Xero's literals are UTC


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


class _Guid(str):
    """A Guid("…") literal: compared case-insensitively as text."""


class _Field:
    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path

    def get(self, record: Record) -> Any:
        value: Any = record
        for part in self.path:
            if not isinstance(value, dict):
                return None
            if part in value:
                value = value[part]
            else:
                lowered = part.lower()
                value = next((v for k, v in value.items() if k.lower() == lowered), None)
        return value


def _ms(value: Any) -> int | None:
    if isinstance(value, str) and value.startswith("/Date("):
        match = re.match(r"/Date\((-?\d+)", value)
        return int(match.group(1)) if match else None
    return None


def _coerce(field_value: Any, literal: Any) -> tuple[Any, Any]:
    """Bring a field value and a literal to comparable Python values."""
    if literal is None or field_value is None:
        return field_value, literal
    if isinstance(literal, datetime):
        ms = _ms(field_value)
        if ms is None:
            raise QueryError("Operator is not compatible with a DateTime and a non-date field")
        return ms, calendar.timegm(literal.timetuple()) * 1000
    if isinstance(literal, bool):
        if not isinstance(field_value, bool):
            raise QueryError("Operator is not compatible with a Boolean and a non-boolean field")
        return field_value, literal
    if isinstance(literal, Decimal):
        if isinstance(field_value, bool) or not isinstance(field_value, int | Decimal | float):
            try:
                return Decimal(str(field_value)), literal
            except InvalidOperation as exc:
                raise QueryError(f"Cannot compare {field_value!r} with a number") from exc
        return Decimal(str(field_value)), literal
    if isinstance(literal, str):
        return str(field_value).lower(), literal.lower()
    return field_value, literal


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "=": "=", "!=": "!="}


def _compare(field: _Field, op: str, literal: Any) -> Predicate:
    test = _OPS[op]

    def predicate(record: Record) -> bool:
        left, right = _coerce(field.get(record), literal)
        if left is None or right is None:
            if op in ("==", "="):
                return left is None and right is None
            if op == "!=":
                return (left is None) != (right is None)
            return False
        try:
            return test(left, right)
        except TypeError as exc:
            raise QueryError(f"Operator '{op}' incompatible with operand types") from exc

    return predicate


@v_args(inline=True)
class _Build(Transformer[Token, Any]):
    def field(self, *names: Token) -> _Field:
        return _Field(tuple(str(n) for n in names))

    def cased(self, field: _Field, _case: Token) -> _Field:
        # ToLower()/ToUpper() (pyxero's __tolower filters): string comparisons here are already
        # case-insensitive, as Xero's are, so the field compares the same either way.
        return field

    def string(self, token: Token) -> str:
        return _unquote(str(token))

    def number(self, token: Token) -> Decimal:
        return Decimal(str(token))

    def null(self, _token: Token) -> None:
        return None

    def true(self, _token: Token) -> bool:
        return True

    def false(self, _token: Token) -> bool:
        return False

    def datetime(self, _name: Token, *parts: Token) -> datetime:
        numbers = [int(p) for p in parts]
        if len(numbers) not in (3, 6):
            raise QueryError("DateTime takes (year, month, day) or (y, m, d, h, m, s)")
        try:
            return _make_datetime(numbers)
        except ValueError as exc:
            raise QueryError(f"Invalid DateTime: {exc}") from exc

    def guid(self, _name: Token, token: Token) -> _Guid:
        text = self.string(token)
        canonical = canonical_guid(text)
        if canonical is None:
            raise QueryError(f"Guid should contain 32 digits with 4 dashes: {text}")
        return _Guid(canonical)

    def comparison(self, left: Any, op: Token, right: Any) -> Predicate:
        operator = str(op)
        if isinstance(left, _Field) and isinstance(right, _Field):
            raise QueryError("Comparing two fields is not supported")
        if isinstance(left, _Field):
            return _compare(left, operator, right)
        if isinstance(right, _Field):
            return _compare(right, _FLIP[operator], left)
        raise QueryError("A comparison needs a field on one side")

    def method(self, field: _Field, name: Token, value: Any) -> Predicate:
        if not isinstance(value, str):
            raise QueryError(f"{name} takes a string")
        needle = value.lower()
        kind = str(name).lstrip(".").strip().lower()

        def predicate(record: Record) -> bool:
            found = field.get(record)
            if found is None:
                return False
            text = str(found).lower()
            if kind == "contains":
                return needle in text
            if kind == "startswith":
                return text.startswith(needle)
            return text.endswith(needle)

        return predicate

    def truthy(self, field: _Field) -> Predicate:
        return lambda record: field.get(record) is True

    def negate(self, inner: Predicate) -> Predicate:
        return lambda record: not inner(record)

    def and_expr(self, *parts: Predicate) -> Predicate:
        return lambda record: all(p(record) for p in parts)

    def or_expr(self, *parts: Predicate) -> Predicate:
        return lambda record: any(p(record) for p in parts)


# A where's cost is bounded: its length by the URL (the guard's 2,048-character query string),
# its nesting here (the tree is built and evaluated recursively), and the work of evaluating it
# by the read side (rows scanned, and rows x conditions).
MAX_WHERE_DEPTH = 32


class Where:
    """A compiled ``where``: call it on a wire record; ``conditions`` counts its comparisons."""

    def __init__(self, predicate: Predicate, conditions: int) -> None:
        self.predicate = predicate
        self.conditions = conditions

    def __call__(self, record: Record) -> bool:
        return self.predicate(record)


def _shape(tree: Any) -> tuple[int, int]:
    """(depth, conditions) of a parse tree, walked without recursion."""
    depth = conditions = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, Tree):
            continue
        depth = max(depth, level)
        if node.data in ("comparison", "method", "truthy"):
            conditions += 1
        stack.extend((child, level + 1) for child in node.children)
    return depth, max(1, conditions)


def parse_where(text: str) -> Where:
    """Compile a ``where`` expression into a predicate over wire records."""
    if not text.strip():
        return Where(lambda record: True, 0)
    try:
        tree = _parser.parse(text)
        depth, conditions = _shape(tree)
        if depth > MAX_WHERE_DEPTH:
            raise QueryError(f"Invalid where clause: it nests deeper than {MAX_WHERE_DEPTH} levels")
        result = _Build().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise QueryError(str(exc.orig_exc)) from None
    except LarkError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise QueryError(f"Invalid where clause {text!r}: {first}") from None
    if isinstance(result, _Field):
        field = result
        return Where(lambda record: field.get(record) is True, 1)
    if not callable(result):
        raise QueryError(f"Invalid where clause {text!r}: not a condition")
    return Where(result, conditions)


def _literal_text(node: Any) -> str | None:
    if isinstance(node, Tree) and node.data == "string":
        return _unquote(str(node.children[0]))
    if isinstance(node, Tree) and node.data == "guid":
        text = _unquote(str(node.children[1]))
        return canonical_guid(text) or text
    return None


def _equality(node: Any) -> tuple[str, str] | None:
    """``(field path, text)`` when the node is ``Field == "text"`` (either way round)."""
    if not (isinstance(node, Tree) and node.data == "comparison"):
        return None
    left, op, right = node.children
    if str(op) not in ("==", "="):
        return None
    if isinstance(right, Tree) and right.data == "field":
        left, right = right, left
    value = _literal_text(right)
    if isinstance(left, Tree) and left.data == "field" and value is not None:
        return ".".join(str(n) for n in left.children), value
    return None


def _one_of(node: Any) -> tuple[str, list[str]] | None:
    """``(field path, texts)`` for ``F == "a"`` or ``F == "a" OR F == "b" OR ...``."""
    single = _equality(node)
    if single is not None:
        return single[0], [single[1]]
    if not (isinstance(node, Tree) and node.data == "or_expr"):
        return None
    terms = [_equality(child) for child in node.children]
    found = [term for term in terms if term is not None]
    if len(found) != len(terms) or len({path.lower() for path, _ in found}) != 1:
        return None
    return found[0][0], [value for _, value in found]


def required_equalities(text: str) -> list[tuple[str, list[str]]]:
    """``(field path, texts)`` pairs: every match has that field equal to one of the texts.

    Found in the top-level AND terms of the form ``F == "a"`` or ``(F == "a" OR F == "b")``
    (or a whole where of that form). Lets the store narrow rows with an index before the
    predicate runs; the predicate still decides, so this only has to be a superset. Call after
    ``parse_where`` accepted ``text``.
    """
    if not text.strip():
        return []
    tree = _parser.parse(text)
    parts = tree.children if isinstance(tree, Tree) and tree.data == "and_expr" else [tree]
    return [found for part in parts if (found := _one_of(part)) is not None]


_ORDER_PART = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(\w+)?\s*$")


def parse_order(text: str) -> list[tuple[_Field, bool]]:
    """``"Name ASC, Date DESC"`` -> [(field, descending)]; QueryError when malformed."""
    result = []
    for part in text.split(","):
        match = _ORDER_PART.match(part)
        if not match:
            raise QueryError(f"Invalid order clause {text!r}")
        direction = (match.group(2) or "ASC").upper()
        if direction not in ("ASC", "DESC"):
            raise QueryError(f"Invalid order direction {match.group(2)!r}")
        result.append((_Field(tuple(match.group(1).split("."))), direction == "DESC"))
    return result


def order_key(field: _Field, record: Record) -> tuple[int, Any]:
    """A sort key for one field: nulls first, dates by instant, text case-insensitively."""
    value = field.get(record)
    if value is None:
        return (0, "")
    ms = _ms(value)
    if ms is not None:
        return (1, ms)
    if isinstance(value, bool):
        return (2, int(value))
    if isinstance(value, int | Decimal | float):
        return (2, Decimal(str(value)))
    return (3, str(value).lower())
