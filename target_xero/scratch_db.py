"""A private temporary SQLite file: what the target keeps that could outgrow memory."""

from __future__ import annotations

import sqlite3

__all__ = ["scratch_database"]


def scratch_database(tables: str) -> sqlite3.Connection:
    """A new private on-disk database with ``tables`` created. SQLite keeps a page cache of
    about 2 MB and spills the rest to the file, which it deletes on close; no journal, no
    syncing (nothing in it outlives the run); one thread at a time."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    db.executescript(f"PRAGMA journal_mode = OFF;\nPRAGMA synchronous = OFF;\n{tables}")
    return db
