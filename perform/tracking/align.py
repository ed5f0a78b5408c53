"""The face aligner shared by the live tracker, `perform capture` and training: landmarks -> aligned crop.

One similarity transform (rotation, uniform scale, shift) puts the two eye centres level at fixed places in
the crop, so a model sees the same framing live as it saw in training. The crop frames the whole face: for a
frontal face the eye centres sit at y = EYE_Y of the crop, EYE_DIST of its width apart, which leaves the chin
near y = 0.86 and the cheeks near 0.2 .. 0.8.
"""

from __future__ import annotations

import cv2
import numpy as np

# MediaPipe face mesh indices (478-point refined mesh). "right"/"left" are the subject's own sides:
# the subject's right eye appears on the image's left in an unmirrored camera.
RIGHT_EYE_CORNERS = (33, 133)  # outer, inner
LEFT_EYE_CORNERS = (362, 263)  # inner, outer
MOUTH_CORNERS = (61, 291)
N_LANDMARKS = 478

EYE_Y = 0.38  # eye line, fraction of crop height from the top
EYE_DIST = 0.27  # eye-centre distance, fraction of crop width, for a frontal face
# Eye-midpoint-to-mouth distance over the eye distance for a frontal face (about 0.88 on the astronaut
# photo, 0.85..1.0 across faces). The scale uses whichever of the two gives the larger face, so a turned
# head (shorter eye distance) or a nodding one (shorter eye-mouth distance) does not zoom the crop in.
MOUTH_PER_EYE_DIST = 0.9

_MIN_FACE_PX = 1e-3


def _points_px(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(N, 2) pixel positions from normalised landmarks (N, 2|3); image_size is (width, height)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < N_LANDMARKS or lm.shape[1] < 2:
        raise ValueError(f"expected ({N_LANDMARKS}, 2|3) landmarks, got shape {lm.shape}")
    w, h = image_size
    return lm[:, :2] * (w, h)


def eye_centres(landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of the image-left and image-right eye (corner midpoints: they do not move with gaze)."""
    p = _points_px(landmarks, image_size)
    right = p[list(RIGHT_EYE_CORNERS)].mean(axis=0)
    left = p[list(LEFT_EYE_CORNERS)].mean(axis=0)
    return right, left


def face_scale_px(landmarks: np.ndarray, image_size: tuple[int, int]) -> float:
    """The face's size in pixels as an equivalent frontal eye distance (robust to yaw and pitch)."""
    p = _points_px(landmarks, image_size)
    e1, e2 = eye_centres(landmarks, image_size)
    mouth = p[list(MOUTH_CORNERS)].mean(axis=0)
    eye_dist = float(np.hypot(*(e2 - e1)))
    eye_mouth = float(np.hypot(*(mouth - (e1 + e2) / 2)))
    return max(eye_dist, eye_mouth / MOUTH_PER_EYE_DIST, _MIN_FACE_PX)


def alignment_matrix(landmarks: np.ndarray, image_size: tuple[int, int], crop_size: int) -> np.ndarray:
    """The (2, 3) float64 affine matrix taking image pixels to aligned-crop pixels.

    landmarks: (478, 2|3) normalised to the image (MediaPipe's x, y); image_size: (width, height).
    """
    e1, e2 = eye_centres(landmarks, image_size)
    d = e2 - e1
    angle = float(np.arctan2(d[1], d[0]))  # eye-line angle in the image (y down)
    s = EYE_DIST * crop_size / face_scale_px(landmarks, image_size)
    c, si = np.cos(-angle) * s, np.sin(-angle) * s
    rot = np.array([[c, -si], [si, c]])  # rotate the eye line level, then scale
    mid = (e1 + e2) / 2
    target = np.array([0.5 * crop_size, EYE_Y * crop_size])
    return np.hstack([rot, (target - rot @ mid)[:, None]])


def transform_points(matrix: np.ndarray, points_px: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine matrix to (N, 2) pixel points."""
    pts = np.asarray(points_px, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def align_face(image: np.ndarray, landmarks: np.ndarray, crop_size: int) -> np.ndarray:
    """The aligned (crop_size, crop_size, 3) uint8 crop of the face in `image` (H, W, 3).

    A large downscale (a close face on a 1280x720 frame into 64 px) first shrinks only the region the crop
    covers with area averaging, so the crop does not alias; the rest is one bilinear warp.
    """
    h, w = image.shape[:2]
    m = alignment_matrix(landmarks, (w, h), crop_size)
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    if scale < 0.5:
        inv = cv2.invertAffineTransform(m)
        corners = np.array([[0, 0], [crop_size, 0], [0, crop_size], [crop_size, crop_size]], dtype=np.float64)
        box = transform_points(inv, corners)
        x0, y0 = np.floor(box.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(box.max(axis=0)).astype(int) + 2
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            roi = image[y0:y1, x0:x1]
            f = scale * 1.25  # shrink to a little above the final scale; the warp does the rest
            rw, rh = max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f))
            small = cv2.resize(roi, (rw, rh), interpolation=cv2.INTER_AREA)
            fx, fy = rw / (x1 - x0), rh / (y1 - y0)
            # resize maps pixel centres: image x = (small u + 0.5) / fx - 0.5 + x0
            pre = np.array([[1 / fx, 0, x0 + 0.5 / fx - 0.5], [0, 1 / fy, y0 + 0.5 / fy - 0.5], [0, 0, 1]])
            m = m @ pre
            image = small
    return cv2.warpAffine(image, m, (crop_size, crop_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT101)
