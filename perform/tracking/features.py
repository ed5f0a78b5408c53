"""Named face features (perform.tracking.observation.FEATURE_RANGES) from MediaPipe's 478 landmarks.

Raw, unsmoothed, one frame at a time; the tracker smooths them. Head pose comes from landmark geometry only
(no solvePnP and no camera model): a face frame built from the 3D landmarks (MediaPipe's z has roughly the
scale of x), cheek to cheek for the x axis and forehead to chin for the y axis.

Ranges and meaning (an unmirrored camera; "left"/"right" eye = the performer's own):
  yaw          -1 .. 1   the face turns towards image-right is positive; 1 = 60 degrees
  pitch        -1 .. 1   chin up (looking up) is positive; 1 = 45 degrees
  roll         -1 .. 1   eye line turned clockwise in the image is positive; 1 = 45 degrees
  mouth_open    0 .. 1   inner-lip gap over mouth width: 0 closed, 1 at a gap of 0.6 mouth widths
  eye_open_*    0 .. 1   lid gap over eye width: 0 closed, about 0.7 relaxed open, 1 wide
  brow_raise    0 .. 1   brow height above the eye over the eye distance: 0 relaxed (or lowered), 1 raised high
  face_x/face_y 0 .. 1   centre of the landmarks in the image, 0 = left / top
  face_size     0 .. 1   face scale (frontal-equivalent eye distance) over image width; 1 at 0.35 of the width
  presence      1 when computed from landmarks (the tracker decays it when the face is lost)
"""

from __future__ import annotations

import math

import numpy as np

from perform.tracking.align import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS, face_scale_px
from perform.tracking.observation import FEATURE_NAMES, FEATURE_RANGES

# landmark indices of the refined face mesh
_CHEEK_RIGHT, _CHEEK_LEFT = 234, 454  # image-left, image-right on an unmirrored face
_FOREHEAD, _CHIN = 10, 152
_LIP_UPPER, _LIP_LOWER = 13, 14  # inner lips
_MOUTH_INNER = (78, 308)  # inner mouth corners
_RIGHT_LIDS = (159, 145)  # upper, lower
_LEFT_LIDS = (386, 374)
_RIGHT_BROW = (105, 66, 70, 63)
_LEFT_BROW = (334, 296, 300, 293)

YAW_FULL_DEG = 60.0
PITCH_FULL_DEG = 45.0
ROLL_FULL_DEG = 45.0
# The forehead-to-chin line of a face looking straight at the camera leans back a little in MediaPipe's
# canonical mesh (the chin sits in front of the forehead); measured on frontal photos.
_PITCH_OFFSET_DEG = -10.0
# Nose-tip depth in front of the cheek landmarks over half the cheek-to-cheek width (MediaPipe's mesh): the
# nose's sideways offset between the cheeks is about this times tan(yaw).
_NOSE_DEPTH_PER_HALF_WIDTH = 1.4
_NOSE_TIP = 1
MOUTH_FULL = 0.6  # inner-lip gap / mouth width at mouth_open = 1
_MOUTH_CLOSED = 0.03
EYE_CLOSED, EYE_FULL = 0.05, 0.50  # lid gap / eye width at eye_open = 0 and 1
BROW_RELAXED, BROW_FULL = 0.15, 0.40  # brow height above the upper lid / eye distance at 0 and 1
FACE_SIZE_FULL = 0.35


def _ramp(v: float, lo: float, hi: float) -> float:
    return float(min(1.0, max(0.0, (v - lo) / (hi - lo))))


def _clip1(v: float) -> float:
    return float(min(1.0, max(-1.0, v)))


def head_pose_deg(landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees with the signs documented above.

    Yaw averages two cues: the 3D face normal (MediaPipe's predicted depth) and the nose tip's sideways
    offset between the cheeks in the image (pure 2D geometry); each covers the other's weak cases.
    """
    w, h = image_size
    p = np.asarray(landmarks, dtype=np.float64)[:, :3] * (w, h, w)  # z has x's scale
    ex = p[_CHEEK_LEFT] - p[_CHEEK_RIGHT]
    ex /= np.linalg.norm(ex) + 1e-12
    ey = p[_CHIN] - p[_FOREHEAD]
    ey -= ex * float(ey @ ex)
    ey /= np.linalg.norm(ey) + 1e-12
    n = -np.cross(ex, ey)  # out of the face, towards the camera (MediaPipe z grows away from it)
    yaw_3d = math.degrees(math.atan2(n[0], -n[2]))
    across = p[_CHEEK_LEFT, :2] - p[_CHEEK_RIGHT, :2]
    half = float(np.linalg.norm(across)) / 2 + 1e-12
    offset = float((p[_NOSE_TIP, :2] - (p[_CHEEK_LEFT, :2] + p[_CHEEK_RIGHT, :2]) / 2) @ across) / (2 * half)
    yaw_2d = math.degrees(math.atan(offset / half / _NOSE_DEPTH_PER_HALF_WIDTH))
    yaw = (yaw_3d + yaw_2d) / 2
    pitch = math.degrees(math.atan2(-n[1], math.hypot(n[0], n[2]))) - _PITCH_OFFSET_DEG
    e1 = p[list(RIGHT_EYE_CORNERS), :2].mean(axis=0)
    e2 = p[list(LEFT_EYE_CORNERS), :2].mean(axis=0)
    roll = math.degrees(math.atan2(e2[1] - e1[1], e2[0] - e1[0]))
    return yaw, pitch, roll


def _dist(p: np.ndarray, i: int, j: int) -> float:
    return float(np.hypot(*(p[i] - p[j])))


def compute_features(landmarks: np.ndarray, image_size: tuple[int, int]) -> dict[str, float]:
    """Every feature of FEATURE_NAMES for one face, each clipped to its range (presence = 1)."""
    w, h = image_size
    lm = np.asarray(landmarks, dtype=np.float64)
    p = lm[:, :2] * (w, h)
    yaw, pitch, roll = head_pose_deg(lm, image_size)
    scale = face_scale_px(lm, image_size)

    mouth_w = _dist(p, *_MOUTH_INNER) + 1e-6
    mouth = _dist(p, _LIP_UPPER, _LIP_LOWER) / mouth_w
    eye_r = _dist(p, *_RIGHT_LIDS) / (_dist(p, *RIGHT_EYE_CORNERS) + 1e-6)
    eye_l = _dist(p, *_LEFT_LIDS) / (_dist(p, *LEFT_EYE_CORNERS) + 1e-6)
    # brow height measured along the face's own vertical (undo roll) so a tilted head does not read as raised
    up = np.array([math.sin(math.radians(roll)), -math.cos(math.radians(roll))])
    brow_r = float((p[list(_RIGHT_BROW)].mean(axis=0) - p[_RIGHT_LIDS[0]]) @ up)
    brow_l = float((p[list(_LEFT_BROW)].mean(axis=0) - p[_LEFT_LIDS[0]]) @ up)
    brow = (brow_r + brow_l) / 2 / scale

    centre = lm[:, :2].mean(axis=0)
    feats = {
        "yaw": _clip1(yaw / YAW_FULL_DEG),
        "pitch": _clip1(pitch / PITCH_FULL_DEG),
        "roll": _clip1(roll / ROLL_FULL_DEG),
        "mouth_open": _ramp(mouth, _MOUTH_CLOSED, MOUTH_FULL),
        "eye_open_left": _ramp(eye_l, EYE_CLOSED, EYE_FULL),
        "eye_open_right": _ramp(eye_r, EYE_CLOSED, EYE_FULL),
        "brow_raise": _ramp(brow, BROW_RELAXED, BROW_FULL),
        "face_x": float(np.clip(centre[0], 0.0, 1.0)),
        "face_y": float(np.clip(centre[1], 0.0, 1.0)),
        "face_size": _ramp(scale / w, 0.0, FACE_SIZE_FULL),
        "presence": 1.0,
    }
    return feats


def neutral_features() -> dict[str, float]:
    """The values features ease towards when no face is seen."""
    from perform.tracking.observation import _neutral

    return {n: _neutral(n) for n in FEATURE_NAMES}


def clip_features(values: dict[str, float]) -> dict[str, float]:
    """Each value clipped to its documented range."""
    return {n: float(min(FEATURE_RANGES[n][1], max(FEATURE_RANGES[n][0], v))) for n, v in values.items()}
