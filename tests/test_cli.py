"""The commands as a user runs them: exit status, what they print, the files they write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "setlists" / "demo.toml"


def perform(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "perform", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_help_lists_the_subcommands():
    r = perform("--help")
    assert r.returncode == 0
    for name in ("live", "rehearse", "record", "check", "capture", "train", "osc", "bench", "info"):
        assert name in r.stdout


@pytest.mark.gl
def test_live_headless_synthetic_runs_120_frames_and_prints_timing():
    r = perform("live", "--headless", "--source", "synthetic", "--frames", "120", "--osc-port", "0")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "perform live: 120 frames" in r.stdout
    for stage in ("frame", "render", "infer", "track"):
        assert f"\n  {stage} " in r.stdout
    assert "p95" in r.stdout


def write_tone(path: Path, seconds: float = 3.0, rate: int = 44100) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.2 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.gl
def test_rehearse_demo_renders_an_mp4_that_decodes_with_audio(tmp_path):
    out = tmp_path / "demo.mp4"
    tone = write_tone(tmp_path / "tone.wav")
    r = perform("rehearse", str(DEMO), "--to", "1", "--size", "320x180", "--out", str(out), "--audio", str(tone),
                "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.width, v.height) == (320, 180)
        assert float(v.average_rate) == pytest.approx(30.0)
        assert sum(1 for _ in c.decode(video=0)) == 30
    with av.open(str(out)) as c:
        assert len(c.streams.audio) == 1
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.gl
def test_rehearse_to_an_unwritable_path_fails_cleanly_and_writes_nothing(tmp_path):
    out = tmp_path / "no-such-folder" / "x.mp4"
    r = perform("rehearse", "--synthetic", "--to", "0.2", "--size", "64x64", "--out", str(out), "--no-progress")
    assert r.returncode == 2
    assert "no-such-folder" in r.stderr and "Traceback" not in r.stderr
    assert not out.parent.exists()


def test_rehearse_a_session_with_a_newer_format_is_refused(tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    (session / "manifest.json").write_text(json.dumps({"format": "perform-session", "format_version": 99}))
    r = perform("rehearse", "--session", str(session), "--to", "0.2", "--no-progress")
    assert r.returncode == 2
    assert "manifest.json" in r.stderr and "99" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.gl
def test_rehearse_a_video_with_no_face_is_refused(tmp_path):
    video = tmp_path / "noface.mp4"
    with av.open(str(video), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        for i in range(10):
            img = np.full((64, 64, 3), 20 * i, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    r = perform("rehearse", "--video", str(video), "--out", str(tmp_path / "x.mp4"), "--no-progress")
    assert r.returncode == 2
    assert "no face" in r.stderr and "noface.mp4" in r.stderr
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("args, names", [
    (("live", "--headless", "--size", "12x"), ("--size", "12x")),
    (("rehearse", "--synthetic", "--size", "2x2"), ("--size", "2x2")),
    (("live", "--headless", "--source", "synthetic", "--frames", "1", "--osc-out", "nohost"), ("--osc-out", "nohost")),
])
def test_bad_options_are_refused_with_a_message_naming_them_before_anything_starts(args, names):
    r = perform(*args, timeout=120)
    assert r.returncode == 2
    assert all(n in r.stderr for n in names) and "Traceback" not in r.stderr
    assert "listening" not in r.stdout  # nothing was started (no OSC server, no window)


@pytest.mark.parametrize("args, names", [
    (("live", "--headless", "--source", "synthetic", "--frames", "1", "--osc-port", "70000"), ("--osc-port", "70000")),
    (("live", "--headless", "--source", "synthetic", "--frames", "1", "--osc-host", "192.0.2.77"),
     ("--osc-host", "192.0.2.77", "not an address of this machine")),
    (("live", "--headless", "--source", "synthetic", "--frames", "1", "--fps", "1000"), ("--fps", "1000", "240")),
    (("live", "--headless", "--source", "synthetic", "--frames", "-3"), ("--frames", "-3", "frame count")),
    (("live", "--headless", "--source", "synthetic", "--frames", "1", "--stall-s", "-1"), ("--stall-s", "-1")),
    (("live", "--headless", "--frames", "1", "--oscquery-port", "70000"), ("--oscquery-port", "TCP port")),
    (("record", "take", "--headless", "--frames", "0"), ("--frames", "'0'")),
    (("rehearse", "--synthetic", "--fps", "0"), ("--fps", "'0'")),
    (("rehearse", "--synthetic", "--fps", "1000"), ("--fps", "1000", "240")),
    (("rehearse", "--synthetic", "--to", "nan"), ("--to", "nan")),
    (("rehearse", "--synthetic", "--from", "-3"), ("--from", "-3")),
    (("rehearse", "--synthetic", "--out", "."), ("--out", "is a folder")),
    (("rehearse", "--synthetic", "--crf", "99"), ("--crf", "99")),
    (("capture", "--video", "x.mp4", "--every", "0", "--out", "never"), ("--every", "'0'")),
    (("capture", "--video", "x.mp4", "--every", "-1", "--out", "never"), ("--every", "-1")),
    (("osc", "--send", "/perform/blackout", "--port", "0"), ("--port", "'0'")),
    (("check", "setlists/demo.toml", "--device", "gpu"), ("--device", "gpu", "not a device")),
])
def test_bad_values_are_usage_errors_naming_the_option_and_the_value(args, names, capsys):
    from perform.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert all(n in err for n in names), err


def _no_device(kind: str) -> bool:
    import torch

    if kind == "cuda":
        return not torch.cuda.is_available()
    return not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


@pytest.mark.parametrize("kind", ["cuda", "mps"])
def test_a_device_this_machine_lacks_is_a_usage_error(kind, capsys):
    if not _no_device(kind):
        pytest.skip(f"this machine has {kind}")
    from perform.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["rehearse", "--synthetic", "--to", "0.1", "--device", kind, "--no-progress"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert f"--device: '{kind}'" in err and "not available on this machine" in err and "cpu" in err


def test_an_osc_port_in_use_names_the_port_and_what_to_do():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = str(taken.getsockname()[1])
        r = perform("live", "--headless", "--source", "synthetic", "--frames", "1", "--osc-port", port, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"--osc-port {port}" in r.stderr and "already in use" in r.stderr and "stop" in r.stderr
    assert "perform live:" not in r.stdout  # refused before the models were loaded and the show started


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: a read-only one, or (as root, whom modes do not stop)
    a system folder that refuses new files."""
    ro = tmp_path / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        (ro / "probe").touch()
    except OSError:
        return ro
    (ro / "probe").unlink()
    for candidate in (Path("/sys"), Path("/proc")):
        try:
            (candidate / "perform-probe.mp4").touch()
        except OSError:
            return candidate
    pytest.skip("no folder here refuses new files to this user")


def test_rehearse_into_a_folder_it_cannot_write_is_refused_before_rendering(tmp_path):
    folder = _unwritable_folder(tmp_path)
    out = folder / "x.mp4"
    r = perform("rehearse", "--synthetic", "--to", "0.2", "--size", "64x64", "--out", str(out), "--no-progress",
                timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--out" in r.stderr and str(folder) in r.stderr and "cannot write" in r.stderr
    assert "perform rehearse:" not in r.stdout  # nothing rendered


@pytest.mark.gl
def test_rehearse_refuses_to_overwrite_its_input_video(tmp_path):
    video = tmp_path / "take.mp4"
    original = (ROOT / "setlists" / "sessions" / "demo" / "crops.mp4").read_bytes()
    video.write_bytes(original)
    r = perform("rehearse", "--video", str(video), "--out", str(video), "--no-progress", timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--out" in r.stderr and "--video" in r.stderr and "overwrite" in r.stderr
    assert video.read_bytes() == original


def test_model_option_takes_a_shipped_name_a_name_in_dot_models_or_a_path(tmp_path, monkeypatch):
    from perform.engine.show import load_setlist_or_default
    from perform.setlist.paths import shipped_models_dir

    monkeypatch.chdir(tmp_path)
    shipped = (shipped_models_dir() / "face-64.json").resolve()
    assert load_setlist_or_default(None, "face-64", None, None).scenes[0].model_path == shipped
    sl = load_setlist_or_default(str(ROOT / "setlists" / "osc.toml"), "face-64", None, None)
    assert {s.model_path for s in sl.scenes} == {shipped}
    (tmp_path / "models").mkdir()
    for suffix in (".json", ".safetensors"):
        (tmp_path / "models" / f"mine{suffix}").write_bytes(shipped.with_suffix(suffix).read_bytes())
    assert load_setlist_or_default(None, "mine", None, None).scenes[0].model_path == tmp_path / "models" / "mine.json"
    assert load_setlist_or_default(None, "models/mine.safetensors", None, None).scenes[0].model_path == \
        tmp_path / "models" / "mine.json"


def test_an_unknown_model_name_lists_the_models_there_are(tmp_path, monkeypatch, capsys):
    from perform.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["rehearse", "--synthetic", "--model", "face-46", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--model face-46: no such model" in err
    assert "face-64" in err and "pair-diametric" in err and "card missing" not in err


def test_bench_tracking_refuses_too_few_frames_to_time(capsys):
    from perform.cli import main

    # the first 10 frames are warm-up: with 10 or fewer there was nothing to take a percentile of (IndexError)
    assert main(["bench", "tracking", "--frames", "10"]) == 2
    err = capsys.readouterr().err
    assert "--frames" in err and "'10'" in err and "Traceback" not in err


@pytest.mark.parametrize("bench", ["nets", "blend", "divergence", "live"])
def test_bench_refuses_a_device_that_is_not_there_as_a_usage_error(bench, capsys):
    from perform.cli import main

    # a traceback from deep in torch before; `perform bench nets --device cuda` on a machine without CUDA is the case
    assert main(["bench", bench, "--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert "--device" in err and "'gpu'" in err and "not a device" in err and "Traceback" not in err
