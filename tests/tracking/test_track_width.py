"""Tracking large frames scaled down to TRACK_WIDTH: the landmarks, in full-frame pixels, agree with the full-size run."""

import cv2
import numpy as np
import pytest

from perform.sources.frame import Frame
from perform.tracking.align import face_scale_px
from perform.tracking.tracker import TRACK_WIDTH, FaceTracker, downscale

FRAME_W = 1280  # the live camera's default width
EYE_DIST_PX = 100.0  # errors are scaled to a face of this size (eye distance, full-frame pixels)


def track(image: np.ndarray, track_width: int | None, n: int = 10):
    with FaceTracker(crop_size=64, track_width=track_width) as t:
        return [t.process(Frame(image, i / 30.0, i)) for i in range(n)][-1]


def test_downscale_keeps_small_frames_and_the_aspect_of_large_ones():
    small = np.zeros((480, 640, 3), np.uint8)
    assert downscale(small, 640) is small and downscale(small, None) is small
    assert downscale(np.zeros((720, 1280, 3), np.uint8), 640).shape == (360, 640, 3)


def test_landmarks_of_a_downscaled_large_frame_agree_with_the_full_size_run(face):
    h, w = face.shape[:2]
    frame = cv2.resize(face, (FRAME_W, round(h * FRAME_W / w)), interpolation=cv2.INTER_CUBIC)  # a large frame
    size = (frame.shape[1], frame.shape[0])
    full, small = track(frame, None), track(frame, TRACK_WIDTH)
    assert full.present and small.present
    err_px = np.linalg.norm((small.landmarks[:, :2] - full.landmarks[:, :2]) * size, axis=1)  # full-frame pixels
    scale = EYE_DIST_PX / face_scale_px(full.landmarks, size)
    # measured: mean 0.81 / 0.79 / 0.21 px, about the full-size run's own change under a 1 px shift of the frame
    assert err_px.mean() * scale <= 1.0 and np.percentile(err_px, 95) * scale <= 2.0
    # what the mapper sees moves little: eye openness most (the lids are a few pixels apart; measured 0.04 of
    # its 0..1 range on the astronaut), pose, mouth, brow, position and size 0.012 at most
    d = {n: abs(small.features[n] - full.features[n]) for n in full.features}
    assert max(d.values()) < 0.06 and max(v for n, v in d.items() if not n.startswith("eye_open")) < 0.025
    assert small.crop.shape == full.crop.shape == (64, 64, 3)


@pytest.mark.parametrize("width", [None, TRACK_WIDTH])
def test_a_frame_no_wider_than_the_track_width_is_tracked_as_it_is(photo, width):
    assert photo.shape[1] <= TRACK_WIDTH
    a, b = track(photo, width, n=3), track(photo, None, n=3)
    assert np.array_equal(a.landmarks, b.landmarks)
