"""Pictures of a pair's training: a strip of snapshots (A over B) and the metric curves, as PNG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from perform.jsonl import read_json_lines
from perform.nets.model import load_model

_COLOURS = {"a": (255, 170, 40), "b": (60, 120, 255), "critic": (90, 170, 60)}  # BGR: A blue, B orange


def snapshot_strip(model_path: str | Path, n_latents: int = 2, seed: int = 0, scale: int = 2) -> np.ndarray:
    """RGB uint8: one column per stored snapshot (trajectory left to right); per latent, A's row over B's."""
    model = load_model(model_path, device="cpu")
    n = model.n_snapshots
    zs = np.random.default_rng(seed).standard_normal((n_latents, model.latent_dim)).astype(np.float32)
    rows = []
    for z in zs:
        tops, bottoms = [], []
        for k in range(n):
            model.set_snapshot_position(k / max(n - 1, 1))
            a, b = model.generate_pair(z)
            tops.append(a)
            bottoms.append(b)
        rows += [np.concatenate(tops, 1), np.concatenate(bottoms, 1)]
    strip = np.concatenate(rows, 0)
    return np.repeat(np.repeat(strip, scale, 0), scale, 1)


def _panel(records: list[dict], keys: list[tuple[str, str]], title: str, size: tuple[int, int] = (240, 420)) -> np.ndarray:
    h, w = size
    img = np.full((h, w, 3), 255, np.uint8)
    pad_l, pad_r, pad_t, pad_b = 50, 10, 22, 22
    steps = np.array([r["step"] for r in records], float)
    series = [(np.array([r.get(k) if isinstance(r.get(k), (int, float)) else np.nan for r in records], float), c) for k, c in keys]
    vals = np.concatenate([s for s, _ in series]) if series else np.array([0.0])
    vals = vals[np.isfinite(vals)]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    s0, s1 = (steps.min(), steps.max()) if steps.size else (0.0, 1.0)
    s1 = s1 if s1 > s0 else s0 + 1

    def xy(s: float, v: float) -> tuple[int, int]:
        x = pad_l + (s - s0) / (s1 - s0) * (w - pad_l - pad_r)
        y = h - pad_b - (v - lo) / (hi - lo) * (h - pad_t - pad_b)
        return int(round(x)), int(round(y))

    cv2.rectangle(img, (pad_l, pad_t), (w - pad_r, h - pad_b), (200, 200, 200), 1)
    for ser, colour in series:
        pts = np.array([xy(s, v) for s, v in zip(steps, ser) if np.isfinite(v)], np.int32)
        if len(pts) > 1:
            cv2.polylines(img, [pts], False, colour, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, tuple(int(c) for c in p), 2, colour, -1, cv2.LINE_AA)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, title, (pad_l, 15), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, f"{hi:.3g}", (2, pad_t + 8), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, f"{lo:.3g}", (2, h - pad_b), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, f"step {int(s0)}", (pad_l, h - 6), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, f"{int(s1)}", (w - pad_r - 40, h - 6), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    x = w - pad_r - 20 * len(keys)
    for (key, colour) in keys:
        label = key.split(".")[0].upper() if "." in key else ""
        cv2.putText(img, label, (x, pad_t + 14), font, 0.45, colour, 1, cv2.LINE_AA)
        x += 20
    return img[:, :, ::-1]  # BGR drawing -> RGB


def metric_curves(records: list[dict]) -> np.ndarray:
    """RGB uint8 panels: colourfulness, batch diversity, change since last snapshot, critic accuracy."""
    panels = [
        _panel(records, [("a.colourfulness", _COLOURS["a"]), ("b.colourfulness", _COLOURS["b"])], "colourfulness (A blue, B orange)"),
        _panel(records, [("a.diversity", _COLOURS["a"]), ("b.diversity", _COLOURS["b"])], "batch diversity (mean pairwise L1)"),
        _panel(records, [("a.change_since_snapshot", _COLOURS["a"]), ("b.change_since_snapshot", _COLOURS["b"])], "change since last snapshot"),
        _panel(records, [("critic_accuracy", _COLOURS["critic"])], "critic accuracy (A vs B)"),
    ]
    return np.concatenate([np.concatenate(panels[:2], 1), np.concatenate(panels[2:], 1)], 0)


def read_metrics(path: str | Path) -> list[dict]:
    return [row for _, row in read_json_lines(Path(path))[0]]


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1])):
        raise OSError(f"{path}: could not write PNG")


def write_report(model_path: str | Path, metrics_path: str | Path, out_dir: str | Path) -> tuple[Path, Path]:
    """strip.png and curves.png in out_dir."""
    out = Path(out_dir)
    strip, curves = out / "strip.png", out / "curves.png"
    write_png(strip, snapshot_strip(model_path))
    write_png(curves, metric_curves(read_metrics(metrics_path)))
    return strip, curves
