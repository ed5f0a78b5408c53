"""Hyper-parameter search over a recipe's parameters with Optuna, each trial scored as select scores snapshots.

A trial trains one run (its own folder, trial-NNNN) with parameters the sampler proposes. At each snapshot
its metrics are scored with the weights (`scale` normalisation: a snapshot's score on fixed per-metric
scales, so trials compare) and reported, and the median pruner stops a trial doing worse than the median of
earlier trials at the same step. A trial's value is its best snapshot's score. The study lives in an Optuna
storage (a sqlite file by default; a shared database URL lets several machines run trials of one study), so
a search that is stopped keeps every finished trial and the same command continues it.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import optuna
from sqlalchemy.exc import SQLAlchemyError

from perform.errors import PerformError
from perform.nets.device import pick_device
from perform.selection.plots import plot_search
from perform.selection.ranking import score_one
from perform.selection.runs import metric_values, read_run
from perform.selection.table import Weight, parse_weights
from perform.training.dataset import load_folder
from perform.training.unstable_equilibrium.config import RecipeConfig, apply_overrides, load_recipe
from perform.training.unstable_equilibrium.run import train
from perform.training.vaegan.config import TrainConfig, resolve
from perform.training.vaegan.trainer import VAEGANTrainer

log = logging.getLogger(__name__)

RECIPES = ("vaegan", "unstable-equilibrium")
DEFAULT_WEIGHTS = {"vaegan": "psnr_db=1,ssim=1,diversity=0.5", "unstable-equilibrium": "diversity=1,colourfulness=1"}


@dataclass(frozen=True, slots=True)
class Param:
    """One searched parameter: a float or int range (log-uniform when `log`), or a list of choices."""

    name: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)


# names as the recipes spell them: TrainConfig fields (vaegan), recipe keys with their table (pair)
SPACES: dict[str, tuple[Param, ...]] = {
    "vaegan": (
        Param("lr_g", 5e-5, 2e-3, log=True),
        Param("lr_d", 5e-5, 2e-3, log=True),
        Param("width", choices=(16, 32, 64)),
        Param("kl_weight", 1e-3, 5e-2, log=True),
        Param("adv_weight", 1e-2, 0.3, log=True),
        Param("feature_weight", 0.25, 2.0, log=True),
    ),
    "unstable-equilibrium": (
        Param("generator_optim.lr", 5e-5, 2e-3, log=True),
        Param("critic_optim.lr", 5e-5, 2e-3, log=True),
        Param("net.width", choices=(8, 16, 32)),
        Param("losses.colour", 0.25, 2.0, log=True),
        Param("losses.pixel_diversity", 0.05, 1.0, log=True),
        Param("losses.embedding", 0.1, 1.0, log=True),
    ),
}

# --tiny: a CPU does a trial in seconds (32 px, a few dozen steps); widths scaled down with it
TINY: dict[str, dict[str, Any]] = {
    "vaegan": dict(resolution=32, latent_dim=16, max_channels=32, batch_size=8, holdout=8, n_critic=1, gp_every=2,
                   warmup_steps=2, steps=30, checkpoint_every=10, sample_every=10**6, log_every=10),
    "unstable-equilibrium": {"net.resolution": 32, "net.latent_dim": 8, "net.max_channels": 16, "net.critic_width": 8,
                             "net.critic_max_channels": 16, "batch_size": 6, "fixed_batch": 6, "steps": 30,
                             "snapshot_every": 10, "health.every": 10, "max_minutes": 0},
}
TINY_WIDTHS = {"vaegan": (4, 8, 16), "unstable-equilibrium": (4, 8, 16)}


def space(recipe: str, tiny: bool) -> tuple[Param, ...]:
    out = []
    for p in SPACES[recipe]:
        if tiny and p.choices and p.name.endswith("width"):
            p = Param(p.name, choices=TINY_WIDTHS[recipe])
        out.append(p)
    return tuple(out)


@dataclass(frozen=True)
class SearchSettings:
    """Everything one `perform search` decides; the same settings on several machines share one study."""

    recipe: str
    out: Path
    trials: int
    weights: str = ""
    budget_s: float | None = None
    steps: int | None = None
    tiny: bool = False
    storage: str | None = None
    study: str | None = None
    seed: int = 0
    device: str | None = None
    data: str | None = None          # vaegan: the face crops
    config: str | None = None        # unstable-equilibrium: the recipe TOML; vaegan: a TrainConfig TOML
    preset: str | None = None        # vaegan: starting values
    sets: tuple[str, ...] = field(default_factory=tuple)  # fixed KEY=VALUE overrides under the searched ones

    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.out / 'search.db').resolve()}"

    def study_name(self) -> str:
        if self.study:
            return self.study
        stem = Path(self.config).stem if self.recipe == "unstable-equilibrium" and self.config else self.recipe
        return f"{stem}{'-tiny' if self.tiny else ''}"


class WeightsError(PerformError):
    """--weights names a metric the trial's run does not write: stops the search (every trial would fail)."""


class _TrialFailed(Exception):
    """A trial that could not finish (its training diverged, say): recorded as failed, the search goes on."""


class _Scorer:
    """Turns a snapshot's metrics into the trial's intermediate value; checks the weights on first use."""

    def __init__(self, weights_text: str) -> None:
        self.text = weights_text
        self.weights: list[Weight] | None = None

    def __call__(self, values: dict[str, float]) -> float:
        if self.weights is None:
            try:
                self.weights = parse_weights(self.text, sorted(values))
            except ValueError as e:  # the names a run writes are known once it wrote a snapshot
                raise WeightsError(f"argument --weights: {e}") from None
        return score_one(values, self.weights)


def _reporter(trial: optuna.Trial, scorer: _Scorer) -> Callable[[int, dict[str, Any]], None]:
    def report(step: int, row: dict[str, Any]) -> None:
        value = scorer(metric_values(row))
        trial.set_user_attr("last_value", value)
        if not math.isfinite(value):
            raise optuna.TrialPruned(f"score not finite at step {step}")
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"step {step}: score {value:.4g} below the median of earlier trials")

    return report


def _pair_config(s: SearchSettings, params: dict[str, Any]) -> RecipeConfig:
    if not s.config:
        raise PerformError("--config FILE (a recipe, e.g. recipes/tug-of-war.toml) is required for unstable-equilibrium")
    sets = [f"{k}={v}" for k, v in (TINY["unstable-equilibrium"] if s.tiny else {}).items()]
    sets += list(s.sets) + [f"{k}={v}" for k, v in params.items()] + [f"seed={s.seed}"]
    if s.steps:
        sets += [f"steps={s.steps}", f"snapshot_every={max(1, s.steps // 3)}"]
    return apply_overrides(load_recipe(s.config), sets, s.config)


def _vaegan_config(s: SearchSettings, params: dict[str, Any]) -> TrainConfig:
    if not s.data:
        raise PerformError("--data DIR (a folder of aligned face crops, from `perform capture`) is required for vaegan")
    over: dict[str, Any] = dict(TINY["vaegan"]) if s.tiny else {}
    for kv in s.sets:
        k, eq, v = kv.partition("=")
        if not eq:
            raise PerformError(f"--set {kv!r}: expected KEY=VALUE")
        over[k.strip()] = v.strip()
    over.update(params)
    over["seed"] = s.seed
    if s.steps:
        over.update(steps=s.steps, checkpoint_every=max(1, s.steps // 3))
    return resolve(s.preset, s.config, over)


def check_settings(s: SearchSettings) -> None:
    """Raise PerformError for what every trial would trip over (missing data or recipe, a bad key or value),
    before a study is opened; tried at both ends of every searched range."""
    for end in (0, -1):
        params = {p.name: (p.choices[end] if p.choices else (p.low, p.high)[end]) for p in space(s.recipe, s.tiny)}
        (_vaegan_config if s.recipe == "vaegan" else _pair_config)(s, params)
    if s.recipe == "vaegan" and not Path(s.data or "").is_dir():
        raise PerformError(f"--data {s.data}: folder not found")


def _run_pair(s: SearchSettings, params: dict[str, Any], out: Path, report: Callable[[int, dict[str, Any]], None]) -> None:
    train(_pair_config(s, params), out, pick_device(s.device), on_snapshot=lambda record: report(int(record["step"]), record))


def _run_vaegan(s: SearchSettings, params: dict[str, Any], out: Path, report: Callable[[int, dict[str, Any]], None],
                data_cache: dict[int, Any]) -> None:
    cfg = _vaegan_config(s, params)
    if cfg.resolution not in data_cache:  # one load per search, not per trial
        data_cache[cfg.resolution] = load_folder(s.data, resolution=cfg.resolution)

    class TrialTrainer(VAEGANTrainer):
        def _checkpoint_with_metrics(self) -> None:
            super()._checkpoint_with_metrics()
            report(self.step, {"step": self.step, **self.metrics})

    trainer = TrialTrainer(cfg, data_cache[cfg.resolution], out, pick_device(s.device), progress=False)
    report(0, {"step": 0, **trainer.evaluate()})  # checks the weights' names before any training time is spent
    if trainer.fit() == 130:
        raise KeyboardInterrupt


def objective_for(s: SearchSettings) -> Callable[[optuna.Trial], float]:
    params_space = space(s.recipe, s.tiny)
    scorer = _Scorer(s.weights or DEFAULT_WEIGHTS[s.recipe])
    data_cache: dict[int, Any] = {}

    def objective(trial: optuna.Trial) -> float:
        params = {p.name: p.suggest(trial) for p in params_space}
        out = s.out / f"trial-{trial.number:04d}"
        trial.set_user_attr("run", out.name)
        report = _reporter(trial, scorer)
        try:
            if s.recipe == "vaegan":
                _run_vaegan(s, params, out, report, data_cache)
            else:
                _run_pair(s, params, out, report)
        except WeightsError:
            raise
        except PerformError as e:  # check_settings vetted what every trial shares: this one is the trial's own
            log.warning("trial %d failed: %s", trial.number, e)
            raise _TrialFailed(str(e)) from None
        run = read_run(out)
        scored = [(score_one(snap.values, scorer.weights or []), snap) for snap in run.snapshots]
        value, best = max(scored, key=lambda t: (t[0], t[1].step))
        trial.set_user_attr("best_step", best.step)
        trial.set_user_attr("metrics", {w.metric: best.values.get(w.metric) for w in scorer.weights or []})
        return value

    return objective


def _objective_settings(s: SearchSettings) -> dict[str, Any]:
    """What a trial's value depends on besides its parameters: trials of one study must share it to compare."""
    weights = s.weights or DEFAULT_WEIGHTS[s.recipe]
    return {"recipe": s.recipe, "weights": ",".join(sorted(w.replace(" ", "") for w in weights.split(","))),
            "steps": s.steps, "preset": s.preset, "sets": sorted(s.sets)}


_OPTION = {"weights": "--weights", "steps": "--steps", "preset": "--preset", "sets": "--set", "recipe": "RECIPE"}


def open_study(s: SearchSettings) -> optuna.Study:
    """Create the study, or load it: refused, naming the difference, when its trials were scored otherwise (a
    changed --weights or --steps would rank new trials and prune them against values that mean something else)."""
    s.out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial is ours (run_search), failures logged by the objective
    try:
        study = optuna.create_study(
            study_name=s.study_name(), storage=s.storage_url(), load_if_exists=True, direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=s.seed, n_startup_trials=min(5, max(2, s.trials // 3))),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    except (ImportError, ValueError, SQLAlchemyError) as e:  # a malformed URL, a driver not installed, no server
        raise PerformError(f"--storage {s.storage_url()}: {type(e).__name__}: {e}") from None
    mine = _objective_settings(s)
    theirs = study.user_attrs.get("objective")
    if theirs is None:
        study.set_user_attr("objective", mine)
    elif theirs != mine:
        key = next(k for k in mine if theirs.get(k) != mine[k])
        def shown(v: Any) -> str:
            return "none" if v in (None, []) else repr(v)

        raise PerformError(f"study {s.study_name()!r} in {s.storage_url()} was run with {_OPTION[key]} "
                           f"{shown(theirs.get(key))}, this command gives {shown(mine[key])}: its trials would not compare with "
                           "the new ones; give the same, or start another study (--study NAME or another --out)")
    return study


def finished(study: optuna.Study) -> int:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def run_search(s: SearchSettings, on_trial: Callable[[str], None] = print) -> optuna.Study:
    """Run trials until the study holds `s.trials` finished ones (or the budget is spent). The table is rewritten
    after every trial and the plot at the end, interrupted or not. Returns the study."""
    check_settings(s)
    study = open_study(s)
    todo = s.trials - finished(study)
    if todo <= 0:
        on_trial(f"study {s.study_name()!r} already has {finished(study)} finished trials (asked for {s.trials})")
        write_results(study, s)
        return study
    t0 = time.perf_counter()

    def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        value = f"{trial.value:.4f}" if trial.value is not None else "-"
        on_trial(f"trial {trial.number}: {trial.state.name.lower()}, value {value}, "
                 f"best step {trial.user_attrs.get('best_step', '-')}; {finished(study)}/{s.trials} finished, "
                 f"{time.perf_counter() - t0:.0f} s")
        write_results(study, s, plot=False)  # the plot takes seconds: drawn once, at the end
        if finished(study) >= s.trials:  # other machines on the same study may have finished some
            study.stop()

    try:
        study.optimize(objective_for(s), n_trials=todo, timeout=s.budget_s, callbacks=[after_trial],
                       catch=(_TrialFailed,))
    finally:
        write_results(study, s)
    return study


def result_rows(study: optuna.Study) -> list[dict[str, Any]]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        duration = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start else None
        rows.append({"trial": t.number, "state": t.state.name, "value": t.value, "best_step": t.user_attrs.get("best_step"),
                     "last_value": t.user_attrs.get("last_value"), "duration_s": duration, "run": t.user_attrs.get("run"),
                     "params": dict(t.params), "metrics": dict(t.user_attrs.get("metrics") or {})})
    return rows


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_results(study: optuna.Study, s: SearchSettings, plot: bool = True) -> tuple[Path, Path, Path | None]:
    """results.csv, results.md (best first) and search.png in the search folder."""
    rows = result_rows(study)
    params = [p.name for p in space(s.recipe, s.tiny)]
    metrics = sorted({m for r in rows for m in r["metrics"]})
    head = ["trial", "state", "value", "best_step", "duration_s", *params, *metrics, "run"]

    def flat(r: dict[str, Any]) -> list[str]:
        return [_fmt(r[k]) for k in head[:5]] + [_fmt(r["params"].get(p)) for p in params] + \
               [_fmt(r["metrics"].get(m)) for m in metrics] + [_fmt(r["run"])]

    csv_path, md_path = s.out / "results.csv", s.out / "results.md"
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(flat(r) for r in rows)
    ordered = sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0.0), r["trial"]))
    lines = [f"# search: study {s.study_name()} ({s.recipe}), {len(rows)} trials, weights "
             f"{s.weights or DEFAULT_WEIGHTS[s.recipe]}", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(flat(r)) + " |" for r in ordered]
    md_path.write_text("\n".join(lines) + "\n")
    png = plot_search(rows, params, s.out / "search.png") if plot and rows else None
    return csv_path, md_path, png
