"""`perform clusters MODEL`: find each layer's feature clusters, store them in the model card, draw a contact sheet.

With --list, print the model's bendable layers and the clusters its card holds, and change nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from perform.commands import options
from perform.errors import PerformError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a model name (as in models/) or the path of its .json/.safetensors")
    p.add_argument("--samples", type=int, default=256, help="images generated to cluster by (default 256)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled latents and of k-means (default 0)")
    p.add_argument("--sheet", type=_sheet, default=None, metavar="FILE.png",
                   help="contact sheet PNG (default MODEL-clusters.png in the current folder)")
    p.add_argument("--list", action="store_true", help="only list the layers and the card's clusters")
    p.add_argument("--device", type=options.device, default="cpu", help="cpu (default), cuda, mps or auto")


def _sheet(text: str) -> Path:
    """A contact sheet path checked before minutes of clustering: an image suffix, in a folder that takes files."""
    if Path(text).suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a .png (or .jpg) file name")
    return Path(options.output_file(text))


def run(args: argparse.Namespace) -> int:
    # torch only when the command runs (start-up of `perform --help` imports every command module)
    from perform.nets.bending.clusters import card_clusters, compute_clusters, contact_sheet, measure_effects
    from perform.nets.bending.layers import describe_layers, generators_of
    from perform.nets.checkpoint import update_card
    from perform.nets.model import load_model
    from perform.setlist.paths import known_models, resolve_model

    card_path = resolve_model(args.model, None)
    if card_path is None:
        raise PerformError(f"{args.model}: no such model; known models: {', '.join(known_models(None)) or 'none'}")
    if not 16 <= args.samples <= 100_000:
        raise PerformError(f"--samples {args.samples}: expected 16..100000")
    model = load_model(card_path, None if args.device == "auto" else args.device)
    cfg = next(iter(generators_of(model).values())).cfg
    print(f"{model.info.name} ({model.info.kind}): bendable layers")
    for line in describe_layers(cfg):
        print(f"  {line}")
    if args.list:
        have = card_clusters(model.info.card, cfg)
        for key, layers in have.items():
            for layer, labels in layers.items():
                print(f"  clusters {key}.{layer}: k={int(labels.max()) + 1}, sizes {[int((labels == j).sum()) for j in range(int(labels.max()) + 1)]}")
        if not have:
            print("  no clusters in the card yet (run without --list)")
        return 0
    clusters = compute_clusters(model, args.samples, args.seed)
    measure_effects(model, clusters)
    sheet = args.sheet or Path(f"{card_path.stem}-clusters.png")
    import cv2  # the one image library perform ships with

    img = contact_sheet(model, clusters)
    if not cv2.imwrite(str(sheet), img[:, :, ::-1]):  # before the card: a failed command leaves the card as it was
        raise PerformError(f"{sheet}: could not write the contact sheet")
    update_card(card_path, {"clusters": clusters})
    for key, layers in clusters["generators"].items():
        for layer, e in layers.items():
            effects = ", ".join(f"{x:.1f}" for x in e["effect"])
            print(f"  {key}.{layer}: k={e['k']} sizes {e['sizes']} effect of switching off (mean |pixel change|): {effects}")
    print(f"clusters written to {card_path}; contact sheet {sheet}")
    return 0
