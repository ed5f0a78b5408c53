"""The colour measures, distances and relational terms of the data-free recipe."""

import pytest
import torch

from perform.training.unstable_equilibrium.losses import (batch_diversity, colour_measure, diversity_loss, pairwise,
                                              relational_loss, relative_colour_loss, soft_colour_count,
                                              target_loss, total_variation)


def _grey_and_colourful():
    torch.manual_seed(0)
    grey = torch.rand(2, 1, 32, 32).mul(2).sub(1).expand(2, 3, 32, 32).clone()
    colourful = torch.rand(2, 3, 32, 32).mul(2).sub(1)
    return grey, colourful


@pytest.mark.parametrize("kind", ["colourfulness", "hue_entropy", "soft_histogram"])
def test_colour_measures_rank_colour_above_grey_and_have_gradients(kind):
    grey, colourful = _grey_and_colourful()
    x = colourful.clone().requires_grad_(True)
    m = colour_measure(x, kind)
    assert m.shape == (2,)
    assert (colour_measure(grey, kind) < m.detach()).all()
    m.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_soft_colour_count_counts_distinct_colours():
    one = torch.full((1, 3, 32, 32), 1.0)  # a single white
    four = one.clone()
    four[:, :, :16, :16] = torch.tensor([-1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    four[:, :, 16:, :16] = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    four[:, :, :16, 16:] = torch.tensor([-1.0, 1.0, -1.0]).view(1, 3, 1, 1)
    n1, n4 = float(soft_colour_count(one)), float(soft_colour_count(four))
    assert n1 < n4 and n4 - n1 > 2.0


@pytest.mark.parametrize("kind", ["l1", "l2", "cosine", "huber"])
def test_pairwise_distances(kind):
    x = torch.randn(5, 7)
    d = pairwise(x, kind)
    assert d.shape == (5, 5)
    assert torch.allclose(torch.diagonal(d), torch.zeros(5), atol=1e-3)
    assert (d + 1e-6 >= 0).all() and torch.allclose(d, d.T, atol=1e-5)


def test_batch_diversity_is_zero_for_a_collapsed_batch():
    same = torch.randn(1, 3, 8, 8).expand(4, 3, 8, 8)
    assert float(batch_diversity(same)) < 1e-6 < float(batch_diversity(torch.randn(4, 3, 8, 8)))


def test_relational_loss_is_lowest_when_feature_distances_follow_latents():
    z = torch.randn(8, 4)
    assert float(relational_loss(z * 3.0, z, "l2")) < 1e-4  # scale-free
    assert float(relational_loss(torch.randn(8, 4), z, "l2")) > 1e-3


@pytest.mark.parametrize("kind", ["bce", "l1", "l2", "hinge"])
def test_target_loss_is_lower_when_the_verdict_matches(kind):
    says_a = torch.full((4,), 5.0)
    assert float(target_loss(says_a, 1.0, kind)) < float(target_loss(says_a, 0.0, kind))


def test_relative_colour_loss_rewards_more_colour_than_the_other():
    more, less = torch.tensor([0.8, 0.9]), torch.tensor([0.2, 0.3])
    assert float(relative_colour_loss(more, less)) < float(relative_colour_loss(less, more))


def test_total_variation_separates_fields_from_noise():
    field = torch.linspace(-1, 1, 32).view(1, 1, 1, 32).expand(2, 3, 32, 32)
    noise = torch.rand(2, 3, 32, 32) * 2 - 1
    assert float(total_variation(field)) < 0.1 < float(total_variation(noise))


def test_diversity_loss_ignores_pixel_noise_and_rewards_coarse_differences():
    torch.manual_seed(1)
    base = torch.zeros(4, 3, 64, 64)
    noisy = base + 0.5 * torch.randn(4, 3, 64, 64)        # differs only pixel by pixel
    fields = base + torch.randn(4, 3, 1, 1).clamp(-1, 1)  # differs as whole colour fields
    assert float(diversity_loss(fields, "l1")) < float(diversity_loss(noisy, "l1"))
