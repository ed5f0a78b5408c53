"""A training run folder as select reads it: one row of metrics per snapshot step, and the weights of each.

Both recipes append one JSON object per snapshot to `metrics.jsonl` (`{"step": N, "<metric>": value, ...}`;
the pair recipe prefixes each generator's measures with `a.` / `b.`). Every numeric column is a metric, so a
metric a recipe adds later is rankable with no change here; `metrics-*.jsonl` files beside it (metrics
computed after the fact) are merged in by step.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perform.errors import PerformError
from perform.jsonl import JSONLinesError, read_json_lines
from perform.selection.table import base_name, is_metric

METRICS_FILE = "metrics.jsonl"
_STEP_FILE = re.compile(r"^(?:step|model)-(\d+)\.safetensors$")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One snapshot: its step, its metrics (finite numbers only) and its weights file if the run kept one."""

    step: int
    values: dict[str, float] = field(hash=False)
    weights: Path | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A run folder read back: its kind ('vaegan' or 'pair'), snapshots in step order, metric columns."""

    path: Path
    kind: str
    snapshots: tuple[Snapshot, ...]
    metrics: tuple[str, ...]


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in row.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[key] = float(v)
    return out


def _read_rows(path: Path) -> dict[int, dict[str, float]]:
    """step -> values; a later row for the same step (a resumed run) replaces the earlier one."""
    try:  # a run killed mid-write leaves a torn last line: the rows before it still count
        lines, _ = read_json_lines(path, allow_cut=True)
    except JSONLinesError as e:
        raise PerformError(f"{path}:{e.line}: not a JSON line") from None
    rows: dict[int, dict[str, float]] = {}
    for n, row in lines:
        if not isinstance(row, dict) or not isinstance(row.get("step"), int):
            raise PerformError(f"{path}:{n}: each line should be an object with an integer 'step'")
        rows[row["step"]] = {k: v for k, v in _flatten(row).items() if is_metric(k)}
    return rows


def _with_means(values: dict[str, float]) -> dict[str, float]:
    """Add `x` = mean of `a.x`, `b.x`, ... where several prefixes share a base name and `x` is not a column."""
    groups: dict[str, list[float]] = {}
    for k, v in values.items():
        if "." in k:
            groups.setdefault(base_name(k), []).append(v)
    out = dict(values)
    for name, vs in groups.items():
        if len(vs) > 1 and name not in out:
            out[name] = sum(vs) / len(vs)
    return out


def metric_values(row: dict[str, Any]) -> dict[str, float]:
    """The metrics of one metrics.jsonl row as select sees them (numbers only, with the pair means)."""
    return _with_means({k: v for k, v in _flatten(row).items() if is_metric(k)})


def _weights_by_step(run: Path) -> dict[int, Path]:
    found: dict[int, Path] = {}
    folder = run / "snapshots"
    if folder.is_dir():
        for p in folder.iterdir():
            m = _STEP_FILE.match(p.name)
            if m and p.with_suffix(".json").is_file():
                found[int(m.group(1))] = p
    return found


def _kind(run: Path) -> str:
    if (run / "recipe.json").is_file():
        try:
            recipe = json.loads((run / "recipe.json").read_text())
        except (OSError, ValueError):
            recipe = {}
        if isinstance(recipe, dict) and "base" in recipe:  # the diverge recipe fine-tunes a base model
            raise PerformError(f"{run}: a diverge run: its snapshots are all in its trajectory model "
                               f"({recipe.get('name', '<name>')}.safetensors), chosen live with trajectory.position; "
                               "select ranks vaegan and pair runs")
        return "pair"
    if any((run / "snapshots").glob("step-*.safetensors")):
        return "pair"
    if (run / "config.json").is_file() or (run / "checkpoint.json").is_file():
        return "vaegan"
    raise PerformError(f"{run}: not a training run folder (no config.json or recipe.json; see `perform train --out`)")


def read_run(path: str | Path) -> Run:
    """Read a run folder; raises PerformError naming the folder or file on anything unusable."""
    run = Path(path)
    if not run.is_dir():
        raise PerformError(f"{run}: run folder not found")
    kind = _kind(run)  # first: a folder that is no run at all is told so, not that it has no metrics yet
    main = run / METRICS_FILE
    if not main.is_file():
        raise PerformError(f"{run}: no {METRICS_FILE}; the run has not reached its first checkpoint yet")
    rows = _read_rows(main)
    for extra in sorted(run.glob("metrics-*.jsonl")):
        for step, values in _read_rows(extra).items():
            if step in rows:
                rows[step].update(values)
    if not rows:
        raise PerformError(f"{main}: no snapshots recorded yet")
    weights = _weights_by_step(run)
    if kind == "vaegan" and (run / "model.safetensors").is_file():
        # the inference export beside the checkpoint is the latest snapshot, whatever snapshots/ holds
        try:
            last = int(json.loads((run / "model.json").read_text()).get("steps", -1))
        except (OSError, ValueError, AttributeError):
            last = -1
        weights.setdefault(last, run / "model.safetensors")
    snaps = tuple(Snapshot(step, _with_means(rows[step]), weights.get(step)) for step in sorted(rows))
    metrics = sorted({k for s in snaps for k in s.values})
    return Run(run, kind, snaps, tuple(metrics))
