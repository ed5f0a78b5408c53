"""`perform curate MODEL`: sample many candidates, score them by named metrics, keep a diverse top k.

Parses and delegates to perform.quality.curate.curate. Writes OUT/contact_sheet.png, curated.csv,
setlist.toml (the picks as keyframe seeds), latents.npy, and candidates.csv (every score; a rerun with the
same model, metrics and data resumes from it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from perform.commands import options
from perform.quality.registry import IMAGE_METRICS

DEFAULT_WEIGHTS = "colourfulness=1,sharpness=0.5"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="a model name (face-64) or a path to its .safetensors/.json")
    p.add_argument("--n", type=options.integer(1, 10_000_000, what="a number of candidates"), default=None,
                   help="candidates to sample: seeds --seed .. --seed+N-1 (default 300 on a CPU, 3000 on a GPU)")
    p.add_argument("--k", type=options.integer(1, 1000, what="a number of picks"), default=12, help="picks to keep (default 12)")
    p.add_argument("--weights", type=options.weights(IMAGE_METRICS), default=None, metavar="NAME=W,...",
                   help=f"how to rank: metrics from {', '.join(IMAGE_METRICS)}, e.g. colourfulness=1,novelty=2,"
                        f"sharpness=0.5; negative prefers low values (default {DEFAULT_WEIGHTS}, plus novelty=1 "
                        "when the training crops are found)")
    p.add_argument("--min-distance", type=options.number(0.0, 1.0, what="an RMS distance"), default=0.15, metavar="D",
                   help="every two picks differ by at least this RMS pixel difference (0..1, images at 16x16; "
                        "default 0.15); 0 keeps the plain top k")
    p.add_argument("--data", metavar="DIR", help="the crops the model was trained on, for novelty (default: the folder "
                   "its card records, if it is there)")
    p.add_argument("--seed", type=options.integer(0, 2**63 - 1, what="a seed"), default=0, help="first seed (default 0)")
    p.add_argument("--batch", type=options.integer(1, 65536, what="a batch size"), default=None,
                   help="images generated and scored at once (default 64 on a CPU, 512 on a GPU)")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default curated/<model name>)")
    p.add_argument("--fresh", action="store_true", help="discard the scores a previous run left in --out")
    p.add_argument("--device", type=options.device, default=None, help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    # torch, the model and the metrics load here, not above: `perform --help` builds this parser
    from perform.nets.device import pick_device
    from perform.quality.curate import CurateConfig, curate, find_model, novelty_reference_folder
    from perform.quality.registry import format_weights, parse_weights

    gpu = pick_device(args.device).type == "cuda"
    weights = args.weights
    if weights is None:
        found = novelty_reference_folder(find_model(args.model), args.data) is not None
        weights = parse_weights(DEFAULT_WEIGHTS + (",novelty=1" if found else ""), IMAGE_METRICS)
    out = Path(args.out) if args.out else Path("curated") / Path(args.model).stem
    cfg = CurateConfig(model=args.model, out=out, weights=weights, n=args.n or (3000 if gpu else 300), k=args.k,
                       min_distance=args.min_distance, first_seed=args.seed, batch=args.batch or (512 if gpu else 64),
                       data=args.data, device=args.device, fresh=args.fresh, progress=not args.no_progress)
    try:
        result = curate(cfg)
    except KeyboardInterrupt:
        print(f"perform curate: interrupted; the scores so far are kept in {out}: run the same command to continue")
        return 130
    print(f"perform curate: {len(result.picks)} picks of {result.scored} candidates"
          + (f" ({result.resumed} scored before)" if result.resumed else "")
          + f", weights {format_weights(weights)}; Vendi of the picks {result.vendi_picks:.2f} "
            f"(the {len(result.picks)} best by score alone: {result.vendi_by_score:.2f})")
    for p in result.picks:
        print(f"  #{p.rank:<3d} seed {p.seed:<8d} score {p.score:+.3f}  "
              + "  ".join(f"{m} {v:.4g}" for m, v in p.metrics.items()))
    for what, path in result.files.items():
        print(f"  {what}: {path}")
    return 0
