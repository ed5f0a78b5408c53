"""A process that renders with llvmpipe and then trains: torch's default build brings triton (its own LLVM)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.gl

_RENDER_THEN_TRAIN = """
from perform.render.context import create_headless_context
ctx = create_headless_context()
fbo = ctx.simple_framebuffer((8, 8)); fbo.use(); fbo.clear(1.0, 0.0, 0.0, 1.0)
assert fbo.read()[:3] == bytes([255, 0, 0])
import torch
import torch._dynamo  # what the first optimiser imports; it loads triton where torch ships it
net = torch.nn.Linear(3, 3)
opt = torch.optim.Adam(net.parameters())
net(torch.ones(1, 3)).sum().backward()
opt.step()
print("trained after rendering")
"""


def test_training_after_a_headless_context_does_not_crash():
    # in a child: the failure this guards against is a segmentation fault, which would end the test run itself
    done = subprocess.run([sys.executable, "-c", _RENDER_THEN_TRAIN], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert "trained after rendering" in done.stdout
