"""Each metric orders hand-made images the right way; Vendi counts distinct items; weights are checked by name."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from perform.quality.diversity import (batch_diversity, cosine_kernel, mean_pairwise_distance, pixel_features,
                                       rbf_kernel, vendi_score)
from perform.quality.image_metrics import METRIC_FUNCTIONS, colourfulness, sharpness
from perform.quality.novelty import NoveltyReference
from perform.quality.registry import IMAGE_METRICS, WeightsError, combine, normalise, parse_weights


def _checker(size: int = 64, cell: int = 4) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    img = np.where(((yy // cell) + (xx // cell)) % 2 == 0, 230, 25).astype(np.uint8)
    return np.repeat(img[..., None], 3, axis=2)


def test_a_grey_image_is_less_colourful_than_a_saturated_one_and_than_a_pale_one():
    grey = np.full((32, 32, 3), 128, np.uint8)
    pale = np.full((32, 32, 3), (150, 128, 110), np.uint8)
    saturated = np.zeros((32, 32, 3), np.uint8)
    saturated[:, :16] = (255, 0, 0)
    saturated[:, 16:] = (0, 0, 255)
    m = colourfulness(np.stack([grey, pale, saturated])).tolist()
    assert m[0] < 0.01 < m[1] < m[2]
    assert m[2] > 82  # 'extremely colourful' on Hasler and Süsstrunk's scale


def test_a_blurred_image_is_less_sharp_and_a_flat_one_has_no_sharpness():
    sharp = _checker()
    blurred = cv2.GaussianBlur(sharp, (0, 0), 1.5)
    more_blurred = cv2.GaussianBlur(sharp, (0, 0), 4.0)
    flat = np.full_like(sharp, 90)
    s = sharpness(np.stack([sharp, blurred, more_blurred, flat])).tolist()
    assert s[0] > s[1] > s[2] > s[3] == 0.0


def test_novelty_is_zero_for_a_training_crop_and_grows_with_the_difference():
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    ref = NoveltyReference.in_pixels(crops)
    near = np.clip(crops[2].astype(int) + 20, 0, 255).astype(np.uint8)
    far = 255 - crops[2]
    d = ref.distance(np.stack([crops[2], near, far])).tolist()
    assert d[0] == pytest.approx(0.0, abs=1e-6) and d[0] < d[1] < d[2]


def test_novelty_in_an_encoders_space_is_measured_there_not_in_pixels():
    enc = lambda x: (x.mean(dim=(2, 3)), None)  # noqa: E731  the mean colour in [-1, 1] as the 'latent' (B, 3)
    crops = np.zeros((2, 16, 16, 3), np.uint8)
    crops[1] = 200
    ref = NoveltyReference.in_encoder(crops, enc, 16, torch.device("cpu"))
    stripes = np.empty((16, 16, 3), np.uint8)
    stripes[::2], stripes[1::2] = 100, 255  # mean 177.5: near crop 1's mean, far from it pixel by pixel
    assert ref.space == "encoder"
    assert float(ref.distance(stripes[None])[0]) == pytest.approx(22.5 / 127.5, rel=1e-4)  # RMS per latent dimension
    pixels = NoveltyReference.in_pixels(crops).distance(stripes[None])
    assert float(pixels[0]) == pytest.approx(np.sqrt((100 ** 2 + 55 ** 2) / 2) / 255, rel=1e-4)


def test_vendi_of_k_identical_items_is_1_and_of_k_orthogonal_items_is_k():
    for k in (1, 3, 7):
        same = torch.ones(k, 5)
        assert vendi_score(cosine_kernel(same)) == pytest.approx(1.0, abs=1e-6)
        assert vendi_score(cosine_kernel(torch.eye(k, 9))) == pytest.approx(float(k), abs=1e-6)
    # between: two groups of identical items count as two
    two = torch.cat([torch.eye(2, 4)[[0]].repeat(3, 1), torch.eye(2, 4)[[1]].repeat(3, 1)])
    assert vendi_score(cosine_kernel(two)) == pytest.approx(2.0, abs=1e-6)


def test_batch_diversity_of_identical_images_is_one_and_of_distinct_images_near_their_count():
    img = _checker(32)
    same = batch_diversity(np.stack([img] * 8))
    assert same.vendi == pytest.approx(1.0, abs=1e-6) and same.distance == 0.0
    colours = np.stack([np.full((32, 32, 3), c, np.uint8) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255))])
    distinct = batch_diversity(colours)
    assert distinct.vendi == pytest.approx(4.0, abs=0.01) and distinct.distance > 0.4
    f = pixel_features(colours)
    assert mean_pairwise_distance(f) == pytest.approx(distinct.distance)
    assert rbf_kernel(f).diagonal().tolist() == [1.0] * 4


def test_every_registered_metric_has_a_function_and_the_reverse():
    assert set(IMAGE_METRICS) == set(METRIC_FUNCTIONS) | {"novelty"}
    assert IMAGE_METRICS["novelty"].needs_reference


def test_weights_are_parsed_and_an_unknown_metric_is_refused_listing_the_valid_ones():
    assert parse_weights("colourfulness=1,novelty=2, sharpness=0.5", IMAGE_METRICS) == {
        "colourfulness": 1.0, "novelty": 2.0, "sharpness": 0.5}
    with pytest.raises(WeightsError, match="unknown metric 'beauty'; valid metrics: colourfulness, sharpness, novelty"):
        parse_weights("colourfulness=1,beauty=3", IMAGE_METRICS)
    for bad, words in (("colourfulness", "NAME=WEIGHT"), ("sharpness=lots", "must be a number"), ("", "no weights"),
                       ("novelty=nan", "finite"), ("novelty=1,novelty=2", "twice"), ("novelty=0", "every weight is 0")):
        with pytest.raises(WeightsError, match=words):
            parse_weights(bad, IMAGE_METRICS)


def test_combine_adds_weighted_z_scores():
    scores = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([30.0, 10.0, 20.0]), "c": np.array([5.0, 5.0, np.nan])}
    assert normalise(scores["c"]).tolist() == [0.0, 0.0, 0.0]
    total = combine(scores, {"a": 1.0, "b": -2.0, "c": 3.0})
    want = normalise(scores["a"]) - 2 * normalise(scores["b"])
    assert np.allclose(total, want) and int(np.argmax(total)) == 1
    with pytest.raises(KeyError, match="novelty"):
        combine(scores, {"novelty": 1.0})
