"""Lineage files: an explore session as JSON (every genome, its parents, the choices, the model), written
atomically and read back with errors that name the file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from perform.explore.session import ExploreSession, LineageError


def write_lineage(path: str | Path, session: ExploreSession) -> Path:
    """Write the session's lineage; a crash mid-write never leaves half a file under the real name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(session.to_json(), indent=1) + "\n")
    os.replace(tmp, path)
    return path


def read_lineage(path: str | Path) -> dict[str, Any]:
    """The lineage's JSON, or a LineageError naming the file and what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise LineageError(f"{path}: no such lineage file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise LineageError(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise LineageError(f"{path}: not valid JSON: line {e.lineno}: {e.msg}") from None
    if not isinstance(data, dict):
        raise LineageError(f"{path}: not a lineage (a JSON object expected)")
    return data
