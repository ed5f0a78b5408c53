"""Aligner and features on the real astronaut photo through real MediaPipe."""

import math

import cv2
import numpy as np

from perform.tracking.align import EYE_DIST, EYE_Y, alignment_matrix, align_face, eye_centres, transform_points
from perform.tracking.features import compute_features
from perform.tracking.observation import FEATURE_NAMES, FEATURE_RANGES


def _features(landmarks_of, image):
    lm = landmarks_of(image)
    assert lm is not None, "no face found"
    return compute_features(lm, (image.shape[1], image.shape[0]))


def test_landmarks_and_features_found(photo, landmarks_of):
    lm = landmarks_of(photo)
    assert lm.shape == (478, 3) and lm.dtype == np.float32
    feats = compute_features(lm, (512, 512))
    assert tuple(feats) == FEATURE_NAMES
    for name, value in feats.items():
        lo, hi = FEATURE_RANGES[name]
        assert lo <= value <= hi, name
    assert abs(feats["roll"]) < 0.2 and abs(feats["yaw"]) < 0.2  # a near-frontal portrait
    assert 0.3 < feats["face_x"] < 0.55 and feats["face_y"] < 0.4  # face upper middle-left of the photo
    assert feats["eye_open_left"] > 0.3 and feats["eye_open_right"] > 0.3


def _eye_angle_deg(landmarks, size):
    a, b = eye_centres(landmarks, (size, size))
    return math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))


def test_crop_eyes_level_after_rotation(photo, landmarks_of):
    rot = cv2.warpAffine(photo, cv2.getRotationMatrix2D((256, 256), 20, 1.0), (512, 512))
    lm = landmarks_of(rot)
    assert abs(_eye_angle_deg(lm, 512) + 20 - _eye_angle_deg(landmarks_of(photo), 512)) < 3  # it is rotated
    for size in (64, 128, 256):
        # the transformed eye points land exactly where the aligner promises
        m = alignment_matrix(lm, (512, 512), size)
        e = transform_points(m, np.stack(eye_centres(lm, (512, 512))))
        assert np.allclose(e[:, 1], EYE_Y * size, atol=1e-6)
        assert np.allclose((e[0, 0] + e[1, 0]) / 2, size / 2, atol=1e-6)
        assert abs(e[1, 0] - e[0, 0]) <= EYE_DIST * size + 1e-6
    # and MediaPipe, run again on the crop, sees level eyes
    crop = align_face(rot, lm, 256)
    assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8
    lm_crop = landmarks_of(crop)
    assert lm_crop is not None
    assert abs(_eye_angle_deg(lm_crop, 256)) < 2.0
    a, b = eye_centres(lm_crop, (256, 256))
    assert abs((a[1] + b[1]) / 2 - EYE_Y * 256) < 256 * 0.03


def test_small_crop_from_large_frame_is_antialiased_and_in_register(photo, landmarks_of):
    # the area-averaged shortcut for big downscales frames the face exactly as the plain warp would, minus aliasing
    big = cv2.resize(photo, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    lm = landmarks_of(photo)  # normalised landmarks hold for the resized image too
    m = alignment_matrix(lm, (1536, 1536), 64)
    crop = align_face(big, lm, 64).astype(np.float64)
    # reference: warp at 8x then box-filter down, with crop pixel j at 8j + 3.5 of the 512 px warp
    up = np.array([[8.0, 0.0, 3.5], [0.0, 8.0, 3.5], [0.0, 0.0, 1.0]]) @ np.vstack([m, [0, 0, 1]])
    ref = cv2.resize(cv2.warpAffine(big, up[:2], (512, 512), flags=cv2.INTER_LINEAR), (64, 64),
                     interpolation=cv2.INTER_AREA).astype(np.float64)
    aliased = cv2.warpAffine(big, m, (64, 64), flags=cv2.INTER_LINEAR).astype(np.float64)
    err, err_aliased = np.abs(crop - ref).mean(), np.abs(aliased - ref).mean()
    assert err < 4.0 and err < err_aliased, (err, err_aliased)


def test_flip_mirrors_face_x_and_yaw(photo, landmarks_of):
    # a head-turn-like perspective squash gives yaw a clear sign; the mirror image must give the other sign
    src = np.float32([[150, 50], [300, 50], [300, 200], [150, 200]])
    dst = np.float32([[150, 50], [300, 72], [300, 178], [150, 200]])
    turned = cv2.warpPerspective(photo, cv2.getPerspectiveTransform(src, dst), (512, 512))
    f, g = _features(landmarks_of, turned), _features(landmarks_of, np.ascontiguousarray(turned[:, ::-1]))
    assert f["face_x"] < 0.5 < g["face_x"]
    assert abs(f["face_x"] + g["face_x"] - 1.0) < 0.02
    assert f["yaw"] > 0.03 and g["yaw"] < -0.03
    assert abs(f["roll"] + g["roll"]) < 0.05
    o, p = _features(landmarks_of, photo), _features(landmarks_of, np.ascontiguousarray(photo[:, ::-1]))
    assert np.sign(o["yaw"]) == -np.sign(p["yaw"])


def test_painted_open_mouth_raises_mouth_open(photo, landmarks_of):
    lm = landmarks_of(photo)
    before = compute_features(lm, (512, 512))["mouth_open"]
    p = lm[:, :2] * 512
    width = float(np.linalg.norm(p[61] - p[291]))
    y0 = int(round(p[[13, 14], 1].mean()))
    x0, x1 = int(p[61, 0] - width * 0.3), int(p[291, 0] + width * 0.3)
    drop = 10
    edited = photo.copy()
    edited[y0 + drop:, x0:x1] = photo[y0:512 - drop, x0:x1]  # drop the jaw ...
    cv2.ellipse(edited, (int(p[13, 0]), y0 + drop // 2), (int(width * 0.42), drop // 2 + 2), 0, 0, 360,
                (50, 15, 20), -1)  # ... and paint the dark open mouth between the lips
    after = _features(landmarks_of, edited)["mouth_open"]
    assert after > before + 0.25, (before, after)
