"""The live show on a CUDA GPU: headless, 30 frames, the model in the inference child on the device."""

from __future__ import annotations

import json

import pytest
import torch

from perform.engine.live_show import LiveConfig, run_live

pytestmark = [pytest.mark.cuda, pytest.mark.gl,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")]

SHOW = """
[show]
size = [96, 64]
[[scene]]
name = "only"
model = "{models}/tiny"
seeds = [1]
duration = "hold"
mapping = []
"""


@pytest.mark.parametrize("inference", ["process", "thread"])
def test_live_headless_runs_30_frames_on_cuda(setlist_file, tmp_path, inference):
    stats = tmp_path / "stats.json"
    cfg = LiveConfig(setlist=str(setlist_file(SHOW)), source="synthetic", headless=True, frames=30, fps=30.0,
                     device="cuda", osc_port=0, inference=inference, stats_json=str(stats))
    assert run_live(cfg) == 0
    stages = json.loads(stats.read_text())["stages"]
    assert stages["frame"]["n"] == 29  # 30 frames drawn: 29 intervals between them
    assert stages["infer"]["n"] >= 1  # and the model made images on the GPU
