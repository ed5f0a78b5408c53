"""Phone videos stored sideways with a display rotation: every reader of video files gets upright frames.

The files are real MP4 / MKV files written with PyAV: the upright portrait is turned the way a phone stores it,
and the container says how to turn it back (display matrix side data, or an old-style `rotate` tag).
"""

import math

import av
import numpy as np
import pytest

from perform.engine.face_input import TrackedFaceInput
from perform.engine.rehearsal import require_face
from perform.sources.photo import astronaut
from perform.sources.video import VideoFileSource, orient
from perform.tracking.align import eye_centres
from perform.tracking.tracker import FaceTracker, create_face_mesh, detect_landmarks
from perform.capture.faces import video_frames


@pytest.fixture(scope="module")
def upright() -> np.ndarray:
    """A portrait (taller than wide) face: 384 wide, 512 high."""
    return np.ascontiguousarray(astronaut().image[:, 64:448])


@pytest.fixture(scope="module")
def mesh():
    m = create_face_mesh(static=True)
    yield m
    m.close()


def _write(path, stored: np.ndarray, n: int = 6, rotation: float | None = None, hflip: bool = False,
           tag: str | None = None):
    """A 10 fps clip of `stored` with a display rotation (degrees counterclockwise) or a `rotate` tag."""
    out = av.open(str(path), "w")
    st = out.add_stream("libx264", rate=10)
    st.width, st.height, st.pix_fmt = stored.shape[1], stored.shape[0], "yuv420p"
    if rotation is not None:
        st.set_display_rotation(rotation, hflip=hflip)
    if tag is not None:
        st.metadata["rotate"] = tag
    for _ in range(n):
        for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(stored), format="rgb24")):
            out.mux(p)
    for p in st.encode():
        out.mux(p)
    out.close()
    return path


def _assert_upright(image, upright, mesh):
    assert image.shape == upright.shape
    diff = float(np.abs(image.astype(int) - upright).mean())
    assert diff < 6, diff  # the same picture, up to compression
    lm = detect_landmarks(mesh, image)
    assert lm is not None, "no face in the frame"
    a, b = eye_centres(lm, (image.shape[1], image.shape[0]))
    assert abs(math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))) < 10  # eyes level, right way up


# (display rotation counterclockwise, quarter turns that stored the upright picture): the player turns the
# stored frame counterclockwise by the rotation, so the phone stored it turned clockwise by as much
@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_display_matrix_rotation_is_applied(tmp_path, upright, mesh, rotation):
    stored = np.rot90(upright, k=-rotation // 90)
    path = _write(tmp_path / f"phone{rotation}.mp4", stored, rotation=rotation)
    src = VideoFileSource(path)
    try:
        assert src.size == (upright.shape[1], upright.shape[0])
        _assert_upright(src.frame_at(0.0, 0).image, upright, mesh)
        _assert_upright(src.frame_at(0.3, 3).image, upright, mesh)  # every frame, not only the first
        _assert_upright(src.read(1.0).image, upright, mesh)  # the live clock too
    finally:
        src.close()


def test_mirrored_display_matrix_is_applied(tmp_path, upright, mesh):
    # rotate 90 counterclockwise, then mirror left-right: the stored frame is the inverse of that
    stored = np.rot90(upright[:, ::-1], k=-1)
    src = VideoFileSource(_write(tmp_path / "mirrored.mp4", stored, rotation=90, hflip=True))
    try:
        _assert_upright(src.frame_at(0.0, 0).image, upright, mesh)
    finally:
        src.close()


def test_old_rotate_tag_is_applied(tmp_path, upright, mesh):
    # Matroska keeps a `rotate` tag as plain metadata (degrees clockwise, the older FFmpeg convention)
    stored = np.rot90(upright, k=1)
    src = VideoFileSource(_write(tmp_path / "tagged.mkv", stored, tag="90"))
    try:
        _assert_upright(src.frame_at(0.0, 0).image, upright, mesh)
    finally:
        src.close()


def test_capture_and_rehearse_read_phone_video_upright(tmp_path, upright, mesh):
    path = _write(tmp_path / "portrait.mp4", np.rot90(upright, k=1), n=10, rotation=-90)  # as an iPhone stores it
    items = list(video_frames([path], every_s=0.5))  # `perform capture --video`
    assert len(items) == 2
    for item in items:
        _assert_upright(item.image, upright, mesh)
    src = VideoFileSource(path)  # `perform rehearse --video`
    require_face(src, str(path), samples=2)
    face = TrackedFaceInput(src, FaceTracker(crop_size=64))
    try:
        obs = face.face_at(0.2, 2)
        assert obs.present and abs(obs.features["roll"]) < 0.2
    finally:
        face.close()


def test_orient_is_transpose_then_flips_for_all_eight():
    img = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    for transpose in (False, True):
        for flip_x in (False, True):
            for flip_y in (False, True):
                ref = img.transpose(1, 0, 2) if transpose else img
                ref = ref[:, ::-1] if flip_x else ref
                ref = ref[::-1] if flip_y else ref
                out = orient(img, (transpose, flip_x, flip_y))
                assert np.array_equal(out, ref) and out.flags.c_contiguous
