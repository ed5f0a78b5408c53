"""Named face features (perform.tracking.observation.FEATURE_RANGES) from MediaPipe's 478 landmarks.

Raw, unsmoothed, one frame at a time; the tracker smooths them. Head pose comes from landmark geometry only
(no solvePnP and no camera model): a face frame built from the 3D landmarks (MediaPipe's z has roughly the
scale of x), cheek to cheek for the x axis and forehead to chin for the y axis; yaw and pitch are read in
that frame with the roll taken out, and brow height along its up axis.

Ranges and meaning (an unmirrored camera; "left"/"right" eye = the performer's own):
  yaw          -1 .. 1   the face turns towards image-right is positive; 1 = 60 degrees
  pitch        -1 .. 1   chin up (looking up) is positive; 1 = 45 degrees
  roll         -1 .. 1   eye line turned clockwise in the image is positive; 1 = 45 degrees
  mouth_open    0 .. 1   inner-lip gap over mouth width: 0 closed, 1 at a gap of 0.6 mouth widths
  eye_open_*    0 .. 1   lid gap over eye width: 0 closed, about 0.7 relaxed open, 1 wide
  brow_raise    0 .. 1   brow height above the eye corners along the head's up axis over the face's scale
                         (brow_height): 0 relaxed (or lowered), 1 raised high; closing the eyes leaves it alone
  face_x/face_y 0 .. 1   centre of the landmarks in the image, 0 = left / top
  face_size     0 .. 1   face scale (frontal-equivalent eye distance) over image width; 1 at 0.35 of the width
  presence      1 when computed from landmarks (the tracker decays it when the face is lost)
"""

from __future__ import annotations

import math

import numpy as np

from perform.tracking.align import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS, face_scale_px
from perform.tracking.observation import FEATURE_NAMES, _neutral

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
_NOSE_BASE = 2
# eye-centre-to-nose-base length over the eye distance, both 3D, on frontal faces (0.77 .. 0.88 across the
# test faces)
_NOSE_PER_EYE_DIST = 0.8
MOUTH_FULL = 0.6  # inner-lip gap / mouth width at mouth_open = 1
_MOUTH_CLOSED = 0.03
EYE_CLOSED, EYE_FULL = 0.05, 0.50  # lid gap / eye width at eye_open = 0 and 1
# brow height above the eye corners / face scale (brow_height) at 0 and 1: the span of the earlier
# brow-to-upper-lid measure, shifted by about the corner-to-lid height, so relaxed faces read about as
# before (0.05 .. 0.25 on the test faces)
BROW_RELAXED, BROW_FULL = 0.245, 0.495
FACE_SIZE_FULL = 0.35


def _ramp(v: float, lo: float, hi: float) -> float:
    return float(min(1.0, max(0.0, (v - lo) / (hi - lo))))


def _clip1(v: float) -> float:
    return float(min(1.0, max(-1.0, v)))


def _rot_x(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


_UNLEAN = _rot_x(_PITCH_OFFSET_DEG)  # turns the measured frame of a frontal face back to the identity


def head_frame(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """The head's rotation (3, 3) in camera axes (x right, y down, z away), columns = the head's own axes.

    x runs cheek to cheek (image-left to image-right on a frontal face), y forehead to chin, z into the head;
    a face looking straight at the camera gives the identity.
    """
    w, h = image_size
    p = np.asarray(landmarks, dtype=np.float64)[:, :3] * (w, h, w)  # z has x's scale
    ex = p[_CHEEK_LEFT] - p[_CHEEK_RIGHT]
    ex /= np.linalg.norm(ex) + 1e-12
    ey = p[_CHIN] - p[_FOREHEAD]
    ey -= ex * float(ey @ ex)
    ey /= np.linalg.norm(ey) + 1e-12
    return np.stack([ex, ey, np.cross(ex, ey)], axis=1) @ _UNLEAN


def head_pose_deg(landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees with the signs documented above.

    Yaw and pitch are read in the head's own frame: the head rotation is split as roll (about the camera's
    axis) after yaw after pitch, so tilting the head sideways moves neither (read straight off the face
    normal, a turned head's yaw leaked into pitch as soon as it tilted). Yaw averages two cues: that 3D
    rotation (MediaPipe's predicted depth) and the nose tip's sideways offset between the cheeks in the
    image (pure 2D geometry, measured along the cheek line); each covers the other's weak cases. Roll is
    the eye line's angle in the image.
    """
    w, h = image_size
    r = head_frame(landmarks, image_size)
    # r = Rz(roll) @ Ry(-yaw) @ Rx(-pitch) (the signs make a face turned to image-right and a raised chin
    # positive); its bottom row does not depend on roll
    yaw_3d = math.degrees(math.asin(float(np.clip(r[2, 0], -1.0, 1.0))))
    pitch = math.degrees(math.atan2(-r[2, 1], r[2, 2]))
    p = np.asarray(landmarks, dtype=np.float64)[:, :2] * (w, h)
    across = p[_CHEEK_LEFT] - p[_CHEEK_RIGHT]
    half = float(np.linalg.norm(across)) / 2 + 1e-12
    offset = float((p[_NOSE_TIP] - (p[_CHEEK_LEFT] + p[_CHEEK_RIGHT]) / 2) @ across) / (2 * half)
    yaw_2d = math.degrees(math.atan(offset / half / _NOSE_DEPTH_PER_HALF_WIDTH))
    yaw = (yaw_3d + yaw_2d) / 2
    e1 = p[list(RIGHT_EYE_CORNERS)].mean(axis=0)
    e2 = p[list(LEFT_EYE_CORNERS)].mean(axis=0)
    roll = math.degrees(math.atan2(e2[1] - e1[1], e2[0] - e1[0]))
    return yaw, pitch, roll


def brow_height(landmarks: np.ndarray, image_size: tuple[int, int]) -> float:
    """Mean brow height above the eye corners along the head's own up axis, over the face's scale.

    Only points that stay put when the eyes close or the mouth moves: the eye corners (the eyelids fall when
    the eyes close, so a brow measured from the upper lid rose with every blink), and for the scale the
    larger of the 3D eye distance and the 3D eyes-to-nose-base length (the frontal-equivalent eye distance,
    as align.face_scale_px, without the mouth: whichever MediaPipe's depth foreshortens, a turn or a nod, the
    other holds). Measured in the head frame, so tilting, turning or nodding does not read as a raised brow.
    """
    w, h = image_size
    p = np.asarray(landmarks, dtype=np.float64)[:, :3] * (w, h, w)
    up = -head_frame(landmarks, image_size)[:, 1]
    eye_r = p[list(RIGHT_EYE_CORNERS)].mean(axis=0)
    eye_l = p[list(LEFT_EYE_CORNERS)].mean(axis=0)
    nose = float(np.linalg.norm(p[_NOSE_BASE] - (eye_r + eye_l) / 2))
    scale = max(float(np.linalg.norm(eye_l - eye_r)), nose / _NOSE_PER_EYE_DIST, 1e-6)
    brow_r = float((p[list(_RIGHT_BROW)].mean(axis=0) - eye_r) @ up)
    brow_l = float((p[list(_LEFT_BROW)].mean(axis=0) - eye_l) @ up)
    return (brow_r + brow_l) / 2 / scale


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
    brow = brow_height(lm, image_size)

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
    return {n: _neutral(n) for n in FEATURE_NAMES}

