"""Statements built once, with the values of an IN bound at execution.

`column.in_(values)` built per call coerces every value through the column's type (SQLModel's
AutoString is a TypeDecorator): a fifth of a group-committed write-back batch's CPU. A module-level
statement with `one_of(column, "name")` is built once, and `params={"name": [...]}` binds the list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col


def one_of(column: Any, name: str) -> ColumnElement[bool]:
    return col(column).in_(bindparam(name, expanding=True))
