"""Measures of generated images and of batches: quality metrics, novelty, diversity, diverse top-k (see docs/curate.md).

Public modules:
- `registry`: the named per-image metrics, `parse_weights` ("colourfulness=1,novelty=2") and `combine`
  (normalised, weighted sum); no torch, so command lines can check weights at parse time.
- `image_metrics`: `colourfulness`, `sharpness` of (B, H, W, 3) uint8 images; `score_images` by name.
- `novelty`: `NoveltyReference`, nearest-training-crop distances in an encoder's space or in pixels.
- `diversity`: `pixel_features`, `vendi_score`, `rbf_kernel`, `cosine_kernel`, `mean_pairwise_distance`,
  `batch_diversity` (the measures training watches for mode collapse).
- `topk`: `DiverseSelector` / `diverse_top_k`, greedy top-k with a minimum distance between picks.
- `curate`: `perform curate` (sample, score, resume, pick, write the contact sheet, CSV and setlist).
"""
