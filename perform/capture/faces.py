"""Face dataset capture: images -> aligned crops (the live tracker's aligner), manifest, contact sheet.

Every image goes through MediaPipe's face mesh and perform.tracking.align, so the crops are framed exactly as
`perform live` frames the performer. Nothing here is fatal per image: unreadable files, images with no face,
faces too small and near-duplicates are counted and listed in skipped.txt with the reason. A dataset is
written into OUT.partial and moved into place only when complete, so a crash never leaves a half dataset.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import cv2
import numpy as np
from tqdm import tqdm

from perform.errors import PerformError
from perform.sources.camera import CameraSource, CaptureFactory
from perform.sources.photo import astronaut, decode_image
from perform.sources.synthetic import background, render_pose, sample_pose
from perform.tracking.align import EYE_DIST, align_face, face_scale_px
from perform.tracking.features import compute_features
from perform.tracking.tracker import create_face_mesh, detect_landmarks

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
SKIPPED = "skipped.txt"
CONTACT_SHEET = "contact_sheet.png"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
SIZES = (64, 128, 256)
_THUMB = 16


@dataclass(frozen=True, slots=True, eq=False)
class CaptureItem:
    """One image offered to capture. image None = it could not be read; `error` says why."""

    name: str
    image: np.ndarray | None
    source: str = ""
    timestamp_s: float | None = None
    frame: int | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class CaptureReport:
    out_dir: Path
    size: int
    seen: int
    saved: int
    duplicates: int
    skipped: tuple[tuple[str, str], ...]  # (name, why), duplicates included
    files: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        no_face = sum(1 for _, why in self.skipped if why.startswith("no face"))
        return (f"{self.saved} crops of {self.size} px from {self.seen} images in {self.out_dir} "
                f"({self.duplicates} near-duplicates dropped, {no_face} without a face, "
                f"{len(self.skipped) - self.duplicates - no_face} other skips; see {SKIPPED})")


def _thumb(crop: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()


def _as_item(x: Any) -> CaptureItem:
    if isinstance(x, CaptureItem):
        return x
    name, image = x
    return CaptureItem(str(name), image, source=str(name))


def contact_sheet(crops: list[np.ndarray], cols: int = 8, cell: int = 64) -> np.ndarray:
    """A grid of up to cols x cols crops (each shrunk to `cell` px) on black, for a quick look at a dataset."""
    picks = crops if len(crops) <= cols * cols else [crops[i] for i in
                                                      np.linspace(0, len(crops) - 1, cols * cols).astype(int)]
    rows = max(1, -(-len(picks) // cols))
    sheet = np.zeros((rows * cell, cols * cell, 3), np.uint8)
    for i, c in enumerate(picks):
        r, k = divmod(i, cols)
        small = c if c.shape[0] == cell else cv2.resize(c, (cell, cell), interpolation=cv2.INTER_AREA)
        sheet[r * cell:(r + 1) * cell, k * cell:(k + 1) * cell] = small
    return sheet


def _write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise PerformError(f"cannot write {path}")


def capture_images(images: Iterable[tuple[str, np.ndarray] | CaptureItem], out_dir: str | Path, size: int = 64,
                   *, dedup: float = 2.5, min_face_scale: float = 0.5, progress: bool = True,
                   total: int | None = None, description: dict[str, Any] | None = None) -> CaptureReport:
    """Detect, align and save the face in each image; write manifest.jsonl, contact_sheet.png, skipped.txt.

    images: (name, RGB uint8 image) pairs or CaptureItems (which carry source/timestamp/frame or a read error).
    size: crop side (64, 128 or 256).
    dedup: a crop whose 16x16 grey thumbnail is within this mean absolute difference (0..255) of a kept one
      is a near-duplicate and dropped; 0 keeps everything.
    min_face_scale: skip faces smaller than this fraction of the crop's own eye distance (upscaled too far).
    description: extra fields for dataset.json (origin, licence, ...).
    Raises PerformError only for problems with out_dir; never for a bad image.
    """
    if size not in SIZES:
        raise PerformError(f"crop size must be one of {', '.join(map(str, SIZES))}, got {size}")
    out = Path(out_dir)
    if (out / MANIFEST).exists():
        raise PerformError(f"{out} already holds a dataset ({MANIFEST}); choose a new folder")
    if out.exists() and not out.is_dir():
        raise PerformError(f"{out} is a file; --out needs a folder")
    work = out.resolve().with_name(out.resolve().name + ".partial")
    try:
        if work.exists():  # left by a run that was killed: nothing in it was published
            shutil.rmtree(work)
        work.mkdir(parents=True)
    except OSError as exc:
        raise PerformError(f"cannot create {work}: {exc}") from exc
    try:
        report = _capture_into(work, images, size, dedup, min_face_scale, progress, total, description)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if report[1] == 0:  # nothing came in at all: nothing to record, and no folder left behind
        shutil.rmtree(work, ignore_errors=True)
    elif report[2] == 0:  # no crops: not a dataset (a rerun into `out` must not be refused); the reasons stay
        _publish_skipped_only(work, out)
    else:
        _publish(work, out)
    return CaptureReport(out, *report)


def _publish_skipped_only(work: Path, out: Path) -> None:
    """Keep only the list of skipped images in `out`, for a capture that found no face."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        os.replace(work / SKIPPED, out / SKIPPED)
    except OSError as exc:
        raise PerformError(f"cannot write {out / SKIPPED}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _publish(work: Path, out: Path) -> None:
    """Move the finished dataset into place: the folder itself if `out` is new, else file by file with the
    manifest last (a dataset is one with a manifest)."""
    try:
        if not out.exists():
            os.replace(work, out)
            return
        for p in sorted(work.iterdir(), key=lambda p: p.name == MANIFEST):
            os.replace(p, out / p.name)
        work.rmdir()
    except OSError as exc:
        raise PerformError(f"cannot move the dataset from {work} to {out}: {exc}") from exc


def _capture_into(out: Path, images: Iterable[tuple[str, np.ndarray] | CaptureItem], size: int, dedup: float,
                  min_face_scale: float, progress: bool, total: int | None,
                  description: dict[str, Any] | None) -> tuple:
    """Write the crops, manifest, skipped list, contact sheet and dataset.json into `out`; the report's fields
    after out_dir."""
    mesh = create_face_mesh(static=True)
    thumbs = np.zeros((0, _THUMB * _THUMB), np.float32)
    kept_names: list[str] = []
    crops: list[np.ndarray] = []
    files: list[str] = []
    skipped: list[tuple[str, str]] = []
    seen = dups = 0
    bar = tqdm(images, total=total, unit="img", desc="capture", disable=not progress, leave=False)
    try:
        with open(out / MANIFEST, "w") as manifest:
            for raw in bar:
                item = _as_item(raw)
                seen += 1
                bar.set_postfix(saved=len(files), skipped=len(skipped), refresh=False)
                try:
                    why, rec, crop = _one(item, mesh, size, min_face_scale)
                except Exception as exc:  # noqa: BLE001 - one strange image must not cost the whole dataset
                    log.debug("capture: %s failed", item.name, exc_info=True)
                    why, rec, crop = f"failed: {type(exc).__name__}: {exc}", {}, None
                if why:
                    skipped.append((item.name, why))
                    continue
                t = _thumb(crop)
                if dedup > 0 and len(thumbs):
                    d = np.abs(thumbs - t).mean(axis=1)
                    j = int(d.argmin())
                    if d[j] < dedup:
                        dups += 1
                        skipped.append((item.name, f"near-duplicate of {kept_names[j]} (distance {d[j]:.2f})"))
                        continue
                fname = f"{len(files):06d}.png"
                _write_png(out / fname, crop)
                thumbs = np.vstack([thumbs, t])
                kept_names.append(item.name)
                files.append(fname)
                crops.append(crop if size <= 64 else cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA))
                manifest.write(json.dumps({"file": fname, **rec}) + "\n")
    finally:
        bar.close()
        mesh.close()
    (out / SKIPPED).write_text("".join(f"{name}\t{why}\n" for name, why in skipped))
    if crops:
        _write_png(out / CONTACT_SHEET, contact_sheet(crops))
    info = {"created_by": "perform capture", "size": size, "count": len(files), "seen": seen,
            "near_duplicates": dups, **(description or {})}
    (out / "dataset.json").write_text(json.dumps(info, indent=2) + "\n")
    return size, seen, len(files), dups, tuple(skipped), tuple(files)


def _one(item: CaptureItem, mesh, size: int, min_face_scale: float) -> tuple[str, dict, np.ndarray | None]:
    """(why skipped or '', manifest record, crop) for one item."""
    if item.image is None:
        return item.error or "could not be read", {}, None
    img = item.image
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 16:
        return f"not an RGB uint8 image (shape {img.shape}, {img.dtype})", {}, None
    lm = detect_landmarks(mesh, img)
    if lm is None:
        return "no face found", {}, None
    h, w = img.shape[:2]
    scale = face_scale_px(lm, (w, h))
    need = EYE_DIST * size * min_face_scale
    if scale < need:
        return f"face too small ({scale:.0f} px between the eyes; {need:.0f} wanted for {size} px crops)", {}, None
    crop = align_face(img, lm, size)
    rec = {"source": item.source or item.name, "name": item.name, "timestamp_s": item.timestamp_s,
           "frame": item.frame, "image_size": [w, h], "size": size,
           "features": {k: round(v, 4) for k, v in compute_features(lm, (w, h)).items()},
           "landmarks": np.round(lm, 5).tolist()}
    return "", rec, crop


# --- inputs -------------------------------------------------------------------------------------------------
def folder_images(root: str | Path) -> tuple[list[Path], Iterator[CaptureItem]]:
    """All files under root (sorted, hidden ones left out), and an iterator decoding each into a CaptureItem."""
    root = Path(root)
    if not root.is_dir():
        raise PerformError(f"image folder not found: {root}")
    paths = sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(root).parts))

    def items() -> Iterator[CaptureItem]:
        for p in paths:
            name = p.relative_to(root).as_posix()
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                yield CaptureItem(name, None, str(p), error=f"not an image file type ({p.suffix or 'no suffix'})")
                continue
            try:
                yield CaptureItem(name, decode_image(p.read_bytes(), name), str(p))
            except (OSError, ValueError) as exc:
                yield CaptureItem(name, None, str(p), error=f"unreadable: corrupt or not an image ({exc})")

    return paths, items()


def video_frames(paths: Iterable[str | Path], every_s: float = 0.2) -> Iterator[CaptureItem]:
    """Frames every `every_s` seconds from each video; a video that cannot be opened becomes one skip."""
    # PyAV is loaded only for video input
    from perform.sources.video import VideoFileSource

    for path in paths:
        try:
            src = VideoFileSource(path)
        except PerformError as exc:
            yield CaptureItem(str(path), None, str(path), error=str(exc))
            continue
        try:
            k = 0
            while (f := src.frame_at(k * every_s, k)) is not None:
                yield CaptureItem(f"{Path(path).name}@{k * every_s:.2f}s", f.image, str(path), k * every_s, k)
                k += 1
        finally:
            src.close()


def camera_frames(index: int, seconds: float, every_s: float = 0.2, *,
                  capture_factory: CaptureFactory | None = None) -> Iterator[CaptureItem]:
    """Frames from a camera for `seconds`, one every `every_s` seconds.

    Raises PerformError when the camera gives up before its first frame (not there, or busy): waiting out
    `seconds` for a camera that never opened would only end in "no faces found".
    """
    cam = CameraSource(index, capture_factory=capture_factory)
    try:
        t0 = time.perf_counter()
        next_t = 0.0
        any_frame = False
        while (now := time.perf_counter() - t0) < seconds:
            f = cam.read(0.5)
            if f is None:
                if cam.status == "lost":
                    if not any_frame:
                        raise PerformError(f"camera {index} gave no frames: it could not be opened (is it "
                                           "connected, and not in use by another program?)")
                    log.warning("camera %d: no frames", index)
                continue
            any_frame = True
            if now >= next_t:
                next_t = now + every_s
                yield CaptureItem(f"camera{index}@{now:.2f}s", f.image, f"camera:{index}", round(now, 3), f.index)
    finally:
        cam.close()


def astronaut_variants(n: int, seed: int = 0, size: tuple[int, int] = (320, 320),
                       roll_deg: float = 25.0) -> Iterator[tuple[str, np.ndarray]]:
    """n views of the shipped astronaut photo under random poses (rolled up to roll_deg), lights and colours
    over varied backdrops (the synthetic source's renderer), as (name, RGB image) pairs for capture_images."""
    rng = np.random.default_rng(seed)
    photo = astronaut()
    for i in range(n):
        pose = sample_pose(rng, roll_deg=roll_deg)
        backdrop = background(size, seed=int(rng.integers(1 << 30)))
        yield f"astronaut-{seed}-{i:05d}", render_pose(photo, pose, size, backdrop)
