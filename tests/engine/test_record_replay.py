"""A live run recorded (face track + OSC over UDP) replays on the fixed clock with the same scene changes."""

from __future__ import annotations

import socket
import threading
import time
import wave
from types import SimpleNamespace

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from perform.audio.live import LiveAudioSignals
from perform.engine import live_show
from perform.engine.live_show import LiveConfig, run_live
from perform.session.reader import load_session

pytestmark = pytest.mark.gl

SHOW = """
[show]
size = [96, 64]
fps = 30
[show.defaults]
model = "{models}/tiny"
drive = "latent"
[[scene]]
name = "first"
seeds = [1]
duration = "hold"
mapping = []
[[scene.shader]]
type = "colour_grade"
name = "grade"
[[scene]]
name = "second"
seeds = [2]
duration = "hold"
mapping = []
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_recorded_live_run_replays_scene_changes_at_the_recorded_frames(setlist_file, tmp_path, render):
    setlist = setlist_file(SHOW)
    port = free_port()
    session = tmp_path / "session"

    # the live loop sends face features every frame to this socket: the messages go out by the show's frames
    running = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    running.bind(("127.0.0.1", 0))
    running.settimeout(60)

    def frames(n: int) -> None:
        """Wait for n more frames of the show (one face datagram each)."""
        for _ in range(n):
            running.recvfrom(65536)

    def send():
        try:
            frames(15)
            client = SimpleUDPClient("127.0.0.1", port)
            client.send_message("/perform/shader/grade/saturation", 0.0)
            frames(15)
            client.send_message("/perform/scene/next", [])
        except OSError:  # the show ended first: the asserts below say so
            return

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    cfg = LiveConfig(setlist=str(setlist), source="synthetic", headless=True, frames=150, fps=30.0,
                     osc_port=port, record=str(session), capture_fps=30.0,
                     osc_out=[("127.0.0.1", running.getsockname()[1])])
    try:
        assert run_live(cfg) == 0
    finally:
        sender.join(5)
        running.close()

    rec = load_session(session)
    changes = rec.scene_changes()
    assert [name for _, name in changes][-1] == "second"
    t_change = changes[-1][0]
    replayed = [e for e in rec.events() if e.address == "/perform/scene/next"]
    assert replayed and abs(replayed[0].t_s - t_change) < 0.5  # the trigger was recorded just before the change

    frames = render(setlist, int(rec.duration_s * 30), events=rec.events(), face=rec.face_input(32))
    scenes = [plan.scene for _, plan in frames]
    first_second = scenes.index("second")
    # the rehearsal changes scene at the frame the recorded trigger falls in
    assert first_second == int(np.ceil(replayed[0].t_s * 30 - 1e-6))
    sat = [e for e in rec.events() if e.address.endswith("/saturation")]
    assert sat, "the shader parameter move was recorded"
    k = int(np.ceil(sat[0].t_s * 30 - 1e-6))
    px_before, px_after = frames[k - 2][0].astype(int), frames[min(k + 1, first_second - 1)][0].astype(int)
    spread = lambda img: np.abs(img - img.mean(axis=2, keepdims=True)).mean()
    assert spread(px_after) < spread(px_before)  # saturation 0 reached the pixels at the recorded frame


def test_osc_out_carries_the_astronauts_face_features_from_the_synthetic_camera(setlist_file, tmp_path):
    from pythonosc.osc_packet import OscPacket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    port = sock.getsockname()[1]
    received: dict[str, list] = {}
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            try:
                data, _ = sock.recvfrom(65536)
            except OSError:
                continue
            for m in OscPacket(data).messages:
                received.setdefault(m.message.address, []).append(m.message.params)

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    cfg = LiveConfig(setlist=str(setlist_file(SHOW)), source="synthetic", headless=True, frames=90, fps=30.0,
                     osc_port=0, osc_out=[("127.0.0.1", port)])
    try:
        assert run_live(cfg) == 0
    finally:
        stop.set()
        t.join(2)
        sock.close()
    present = [p[0] for p in received.get("/perform/face/present", [])]
    assert present and max(present) == 1  # the astronaut was seen
    for feature in ("yaw", "mouth_open", "face_x", "face_size"):
        values = [p[0] for p in received[f"/perform/face/{feature}"]]
        assert values and all(isinstance(v, float) for v in values)
    xs = [p[0] for p in received["/perform/face/face_x"]]
    assert max(xs) - min(xs) > 0.01  # the synthetic camera moves the face: the values follow it
    assert "/perform/state/scene" in received


class _PacedSoundCard:
    """A sound card (this machine has none) that delivers a 440 Hz sine in 256-sample blocks in real time, with
    PortAudio's capture times, from its own thread: what sounddevice.InputStream does."""

    def __init__(self, callback, rate: int = 48_000, block: int = 256) -> None:
        self.callback, self.rate, self.block = callback, rate, block
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        t0, k = time.perf_counter(), 0
        while not self.closed.is_set():
            due = t0 + (k + 1) * self.block / self.rate  # a block is handed over once its last sample is in
            if time.perf_counter() < due:
                self.closed.wait(due - time.perf_counter())
                continue
            s = np.arange(k * self.block, (k + 1) * self.block) / self.rate
            x = (0.5 * np.sin(2 * np.pi * 440.0 * s)).astype(np.float32)[:, None]
            captured = SimpleNamespace(currentTime=time.perf_counter(), inputBufferAdcTime=due - self.block / self.rate)
            self.callback(x, self.block, captured, None)
            k += 1

    def close(self) -> None:
        self.closed.set()


def test_a_show_recorded_with_audio_in_keeps_the_sound_it_heard(setlist_file, tmp_path, monkeypatch):
    def open_fake(name):
        card = lambda dev, rate, block, callback, finished: _PacedSoundCard(callback, rate, block)
        # never taken for unplugged: a loaded machine may starve the card's thread for a second (it catches up)
        return LiveAudioSignals(name=name, open_stream=card, stale_s=60.0).start()

    monkeypatch.setattr(live_show, "open_live_input", open_fake)
    session = tmp_path / "session"
    cfg = LiveConfig(setlist=str(setlist_file(SHOW)), source="synthetic", headless=True, frames=90, fps=30.0,
                     osc_port=0, record=str(session), capture_fps=30.0, audio_in="fake card")
    assert run_live(cfg) == 0
    rec = load_session(session)
    assert rec.audio_path is not None and rec.manifest.counts["dropped_audio_blocks"] == 0
    with wave.open(str(rec.audio_path), "rb") as w:
        rate, x = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32767.0
    # the sound covers the session (from its first face on, until the recording closed: a little past the last
    # face on a busy machine) with no gap, a late callback moving nothing: a steady sine throughout
    assert len(x) / rate > rec.duration_s - 1.5, (len(x) / rate, rec.duration_s)
    windows = x[: len(x) // 4800 * 4800].reshape(-1, 4800)  # 0.1 s each
    assert np.sqrt((windows ** 2).mean(axis=1)).min() > 0.3  # 0.5 / sqrt(2) = 0.354: no silence padded in
