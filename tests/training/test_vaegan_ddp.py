"""Data-parallel VAE-GAN training: 2 CPU processes over gloo end with identical weights, on different data shards."""

from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from _vaegan_data import TINY, write_faces


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, data_dir: str, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from perform.training import distributed as D
    from perform.training.vaegan.config import TrainConfig
    from perform.training.dataset import load_folder
    from perform.training.vaegan.trainer import VAEGANTrainer

    info = D.init_from_env("cpu")
    try:
        cfg = TrainConfig(**{**TINY, "steps": 3, "checkpoint_every": 3})
        t = VAEGANTrainer(cfg, load_folder(data_dir), out, "cpu", info, progress=False)
        first = t.sampler.next().tolist()
        t.sampler.load_state({"epoch": 0, "pos": 0})
        assert t.fit() == 0
        state = {f"{n}.{k}": v.contiguous() for n, m in (("e", t.encoder), ("g", t.generator), ("ema", t.generator_ema), ("d", t.critic))
                 for k, v in m.state_dict().items()}
        state["first_batch"] = torch.tensor(first)
        save_file(state, os.path.join(out, f"rank{rank}.safetensors"))
    finally:
        D.shutdown(info)


def test_two_gloo_ranks_end_with_identical_weights(tmp_path):
    data = write_faces(tmp_path / "faces", n=32)
    out = tmp_path / "run"
    out.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(data), str(out)), nprocs=2, join=True)
    r0, r1 = load_file(str(out / "rank0.safetensors")), load_file(str(out / "rank1.safetensors"))
    b0, b1 = r0.pop("first_batch"), r1.pop("first_batch")
    assert len(b0) == len(b1) == TINY["batch_size"] // 2 and not set(b0.tolist()) & set(b1.tolist())  # disjoint shards
    differ = [k for k in r0 if not torch.equal(r0[k], r1[k])]
    assert not differ, differ[:5]
    # and it trained: the weights moved away from the shared initialisation
    torch.manual_seed(TINY.get("seed", 0))
    from perform.training.vaegan.config import TrainConfig
    from perform.nets.vaegan import Encoder

    init = Encoder(TrainConfig(**TINY).model_config()).state_dict()
    assert not torch.equal(init["head.weight"], r0["e.head.weight"])
    assert (out / "checkpoint.safetensors").exists() and (out / "model.safetensors").exists()  # rank 0 wrote
