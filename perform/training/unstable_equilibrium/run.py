"""The unstable-equilibrium run: steps, snapshots, metrics, and the final pair checkpoint that plays them back.

Nothing in this recipe reaches an equilibrium: the trajectory is the work, so the run keeps snapshots of
both generators and the pair checkpoint holds them for playback (perform.nets.pair.PairModel).
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from perform.errors import PerformError
from perform.nets.device import pick_device
from perform.nets.pair import save_pair, sefa_directions
from perform.training.unstable_equilibrium.config import RecipeConfig, apply_overrides, load_recipe
from perform.training.unstable_equilibrium.health import measure
from perform.training.unstable_equilibrium.report import write_report
from perform.training.unstable_equilibrium.trainer import PairTrainer, StateDict, StepStats

log = logging.getLogger(__name__)


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    return f"{os.cpu_count()}-core CPU ({platform.machine()}), no GPU, torch threads {torch.get_num_threads()}"


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) else math.nan


def _spread(n: int, keep: int) -> list[int]:
    """`keep` indices out of n, evenly spread, always including the first and the last."""
    if n <= keep:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, keep)})


def train(cfg: RecipeConfig, out_dir: str | Path, device: torch.device | str = "cpu", keep_alive: bool = False,
          on_snapshot: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Run a recipe; writes snapshots/, metrics.jsonl, recipe.json, strip.png, curves.png and
    pair-<name>.safetensors/.json into out_dir. Returns the pair checkpoint's path."""
    out = Path(out_dir)
    (out / "snapshots").mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    trainer = PairTrainer(cfg, device, keep_alive)
    gcfg = cfg.net.generator_config()
    snapshots: list[tuple[StateDict, StateDict]] = []
    snap_meta: list[dict[str, Any]] = []
    stats = StepStats()
    metrics_path = out / "metrics.jsonl"
    metrics_path.write_text("")
    t0 = time.perf_counter()
    n_events = 0
    last_health: dict[str, Any] = {}
    snap_images: dict[str, torch.Tensor] = {}

    def take_snapshot(it: int) -> None:
        nonlocal n_events
        health = trainer.health_check(it) if it % cfg.health.every else last_health
        change = {}
        for who, gen in trainer.generators().items():  # the trajectory's speed: change since the last snapshot
            h, snap_images[who] = measure(gen, trainer.z_fixed, snap_images.get(who))
            change[f"{who}.change_since_snapshot"] = h.change
        record = {"step": it, "time_s": round(time.perf_counter() - t0, 2), "critic_accuracy": trainer.critic_accuracy(),
                  **{f"{who}.{k}": v for who, h in health.items() for k, v in h.items()}, **change,
                  **{k: round(v, 5) for k, v in stats.means().items()},
                  "events": [e.to_dict() for e in trainer.events[n_events:]]}
        record = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}  # strict JSON
        n_events = len(trainer.events)
        stats.reset()
        states = trainer.snapshot_states()
        snapshots.append(tuple({k: v.half() if v.is_floating_point() else v for k, v in s.items()} for s in states))
        meta = {"step": it, "metrics": {k: v for k, v in record.items() if k not in ("events",)}}
        snap_meta.append(meta)
        save_pair(out / "snapshots" / f"step-{it:06d}", [snapshots[-1]],
                  {"name": f"{cfg.name}-step{it}", "config": gcfg.to_dict(), "snapshots": [meta], "recipe": cfg.to_dict()})
        with metrics_path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        log.info("snapshot %d: critic acc %.2f, colourfulness a %.1f b %.1f, diversity a %.3f b %.3f",
                 it, record["critic_accuracy"], _num(record.get("a.colourfulness")), _num(record.get("b.colourfulness")),
                 _num(record.get("a.diversity")), _num(record.get("b.diversity")))
        if on_snapshot:
            on_snapshot(record)

    last_health = trainer.health_check(0)
    take_snapshot(0)
    done = 0
    for it in range(1, cfg.steps + 1):
        stats.add(trainer.step(it))
        done = it
        if it % cfg.health.every == 0:
            last_health = trainer.health_check(it)
        out_of_time = cfg.max_minutes > 0 and time.perf_counter() - t0 > 60.0 * cfg.max_minutes
        if it % cfg.log_every == 0:
            m = stats.means()
            shown = ", ".join(f"{k} {m[k]:.3g}" for k in ("critic.loss", "a.grad_norm", "b.grad_norm") if k in m)  # 'turns': one side idle
            vendi = ", ".join(f"{who}.vendi {_num(h.get('vendi')):.1f}" + (" COLLAPSED" if who in trainer.collapsed else "")
                              for who, h in last_health.items())
            log.info("step %d/%d (%.1f s/step): %s; %s", it, cfg.steps, (time.perf_counter() - t0) / it, shown, vendi)
        if it % cfg.snapshot_every == 0 or it == cfg.steps or out_of_time:
            take_snapshot(it)
        if out_of_time:
            log.warning("max_minutes (%g) reached at step %d of %d: stopping with a final snapshot", cfg.max_minutes, it, cfg.steps)
            break
    elapsed = time.perf_counter() - t0

    keep = _spread(len(snapshots), cfg.keep_snapshots)
    final = trainer.generators()
    directions = sefa_directions([final["a"], final["b"]])
    counts: dict[str, int] = {}
    for e in trainer.events:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    card = {
        "name": f"pair-{cfg.name}",
        "config": gcfg.to_dict(),
        "recipe": cfg.to_dict(),
        "training": {"recipe": "unstable-equilibrium", "steps": done, "planned_steps": cfg.steps, "time_s": round(elapsed, 1), "hardware": _hardware(trainer.device),
                     "device": str(trainer.device), "torch": torch.__version__, "keep_alive": keep_alive,
                     "seed": cfg.seed, "data": "none (data-free recipe)"},
        "snapshots": [snap_meta[i] for i in keep],
        "metrics": snap_meta[-1]["metrics"],
        "health_events": counts,
        "collapse_rollbacks": trainer.rollbacks,
        "directions": directions,
    }
    path = save_pair(out / f"pair-{cfg.name}", [snapshots[i] for i in keep], card)
    try:
        write_report(path, metrics_path, out)
    except Exception as e:  # a failed picture must not lose a finished training run
        log.warning("could not draw the strip/curves: %s", e)
    log.info("done: %d steps in %.0f s -> %s", done, elapsed, path)
    return path


def train_pair(config_path: str | Path, out_dir: str | Path | None = None, sets: list[str] | None = None,
               steps: int | None = None, seed: int | None = None, device: str | None = None,
               keep_alive: bool = False) -> Path:
    """Load a recipe file, apply KEY=VALUE overrides (then `steps` and `seed`), and train on `device`
    (None: the best available) into `out_dir` (default runs/<recipe name>). Returns the pair checkpoint's path."""
    cfg = load_recipe(config_path)
    sets = list(sets or [])
    sets += [f"{key}={int(value)}" for key, value in (("steps", steps), ("seed", seed)) if value is not None]
    if sets:
        cfg = apply_overrides(cfg, sets, str(config_path))
    try:
        dev = pick_device(device)
    except ValueError as e:
        raise PerformError(str(e)) from None
    out = Path(out_dir) if out_dir else Path("runs") / cfg.name
    if (out / "metrics.jsonl").exists():  # its snapshots would stay beside the new run's, steps mixed
        raise PerformError(f"{out} already holds a run; choose another --out")
    return train(cfg, out, dev, keep_alive=keep_alive)
