"""`perform capture` and capture_images on real files through real MediaPipe."""

import json

import av
import cv2
import numpy as np
import pytest

from perform.cli import main
from perform.errors import PerformError
from perform.tracking.align import EYE_Y
from perform.capture.faces import (CONTACT_SHEET, MANIFEST, SKIPPED, astronaut_variants, camera_frames,
                                      capture_images, video_frames)
from perform.tracking.tracker import create_face_mesh, detect_landmarks


@pytest.fixture(scope="module")
def faces():
    return list(astronaut_variants(3, seed=11))


def _write(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def test_folder_capture_crops_and_lists_skips(tmp_path, faces):
    src = tmp_path / "photos"
    (src / "more").mkdir(parents=True)
    for name, img in faces:
        _write(src / f"{name}.jpg", img)
    _write(src / "more" / "copy.png", faces[0][1])  # the same face again: a near-duplicate
    _write(src / "wall.png", np.full((200, 240, 3), 120, np.uint8))
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (src / "readme.txt").write_text("not a picture")
    out = tmp_path / "set"
    rc = main(["capture", "--images", str(src), "--out", str(out), "--size", "64", "--no-progress"])
    assert rc == 0
    pngs = sorted(p.name for p in out.glob("0*.png"))
    assert len(pngs) == 3
    crop = cv2.imread(str(out / pngs[0]))
    assert crop.shape == (64, 64, 3)
    records = [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]
    assert [r["file"] for r in records] == pngs
    assert len(records[0]["landmarks"]) == 478 and "mouth_open" in records[0]["features"]
    skipped = dict(line.split("\t") for line in (out / SKIPPED).read_text().splitlines())
    assert "no face" in skipped["wall.png"]
    assert "unreadable" in skipped["broken.jpg"]
    assert "not an image" in skipped["readme.txt"]
    assert "near-duplicate" in skipped["more/copy.png"]
    assert cv2.imread(str(out / CONTACT_SHEET)) is not None
    # crops are framed as the live aligner frames them: MediaPipe sees level eyes at EYE_Y
    mesh = create_face_mesh(static=True)
    big = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), (256, 256), interpolation=cv2.INTER_CUBIC)
    lm = detect_landmarks(mesh, big)
    mesh.close()
    assert lm is not None and abs(lm[[33, 133, 362, 263], 1].mean() - EYE_Y) < 0.04


def test_folder_without_faces_fails_clearly_and_leaves_no_dataset(tmp_path, capsys, faces):
    src = tmp_path / "nothing"
    src.mkdir()
    _write(src / "grey.png", np.full((64, 64, 3), 50, np.uint8))
    rc = main(["capture", "--images", str(src), "--out", str(tmp_path / "o"), "--no-progress"])
    assert rc != 0
    assert "no faces found" in capsys.readouterr().err
    assert "no face" in (tmp_path / "o" / SKIPPED).read_text()
    assert not (tmp_path / "o" / MANIFEST).exists() and not list(tmp_path.glob("*.partial"))
    # nothing there is a dataset: the same folder takes the next try
    _write(src / "face.png", faces[0][1])
    assert main(["capture", "--images", str(src), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert len((tmp_path / "o" / MANIFEST).read_text().splitlines()) == 1


def test_a_video_that_is_not_there_is_named_with_why(tmp_path, capsys):
    rc = main(["capture", "--video", str(tmp_path / "x.mp4"), "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc != 0 and "x.mp4" in err and "not found" in err, err
    assert not (tmp_path / "o").exists() and not list(tmp_path.iterdir())  # a typo writes nothing


class _NoCamera:
    """What OpenCV gives for a camera index with nothing behind it."""

    def isOpened(self):
        return False

    def release(self):
        pass


def test_a_camera_that_cannot_open_is_an_error_at_once_and_writes_nothing(tmp_path):
    frames = camera_frames(7, seconds=60.0, capture_factory=lambda index: _NoCamera())
    with pytest.raises(PerformError, match="camera 7 gave no frames"):
        capture_images(frames, tmp_path / "o", 64, progress=False)
    assert not list(tmp_path.iterdir())


def test_a_source_that_gives_no_images_leaves_no_folder(tmp_path):
    report = capture_images(iter(()), tmp_path / "o", 64, progress=False)
    assert report.seen == 0 and report.saved == 0
    assert not list(tmp_path.iterdir())


def test_capture_images_api_and_existing_dataset_refused(tmp_path, faces):
    report = capture_images(faces + [("nothing", np.zeros((80, 80, 3), np.uint8))], tmp_path / "a", 128,
                            progress=False)
    assert report.saved == 3 and report.seen == 4 and report.skipped == (("nothing", "no face found"),)
    assert cv2.imread(str(tmp_path / "a" / report.files[0])).shape == (128, 128, 3)
    with pytest.raises(PerformError, match="already holds a dataset"):
        capture_images(faces, tmp_path / "a", 128, progress=False)
    with pytest.raises(PerformError, match="crop size"):
        capture_images(faces, tmp_path / "b", 100, progress=False)


def test_video_capture_samples_frames_and_skips_bad_video(tmp_path, faces):
    path = tmp_path / "take.mp4"
    out = av.open(str(path), "w")
    st = out.add_stream("libx264", rate=10)
    st.width, st.height, st.pix_fmt = 320, 320, "yuv420p"
    for _, img in faces:
        for _ in range(5):
            for p in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
    for p in st.encode():
        out.mux(p)
    out.close()
    (tmp_path / "bad.mp4").write_bytes(b"junk" * 10)
    items = list(video_frames([path, tmp_path / "bad.mp4"], every_s=0.5))
    assert [i.timestamp_s for i in items[:-1]] == [0.0, 0.5, 1.0]
    assert items[-1].image is None and "bad.mp4" in items[-1].error
    report = capture_images(items, tmp_path / "v", 64, progress=False)
    assert report.saved == 3 and "bad.mp4" in report.skipped[0][1]


def test_an_empty_image_file_is_skipped_and_reported(tmp_path, faces):
    src = tmp_path / "photos"
    src.mkdir()
    _write(src / "a.jpg", faces[0][1])
    (src / "empty.jpg").write_bytes(b"")
    out = tmp_path / "set"
    assert main(["capture", "--images", str(src), "--out", str(out), "--no-progress"]) == 0
    skipped = dict(line.split("\t") for line in (out / SKIPPED).read_text().splitlines())
    assert "empty" in skipped["empty.jpg"] and "unreadable" in skipped["empty.jpg"]
    assert len(list(out.glob("0*.png"))) == 1


def test_a_capture_that_dies_midway_leaves_nothing_that_blocks_the_rerun(tmp_path, faces):
    def dies_after_two():
        yield from faces[:2]
        raise KeyboardInterrupt  # the user's Ctrl-C, or a crash, halfway through

    out = tmp_path / "set"
    with pytest.raises(KeyboardInterrupt):
        capture_images(dies_after_two(), out, 64, progress=False)
    assert not out.exists() and not list(tmp_path.iterdir())  # no half dataset, no leftovers
    report = capture_images(faces, out, 64, progress=False)
    assert report.saved == 3 and (out / MANIFEST).exists()
    assert not (tmp_path / "set.partial").exists()


def test_capture_into_an_existing_empty_folder_and_a_stale_partial_from_a_killed_run(tmp_path, faces):
    out = tmp_path / "set"
    out.mkdir()
    stale = tmp_path / "set.partial"
    stale.mkdir()
    (stale / "000000.png").write_bytes(b"half")  # what a killed run leaves
    report = capture_images(faces, out, 64, progress=False)
    assert report.saved == 3 and report.out_dir == out
    assert sorted(p.name for p in out.glob("0*.png")) == ["000000.png", "000001.png", "000002.png"]
    assert cv2.imread(str(out / "000000.png")) is not None and not stale.exists()
