"""Image folders read safely (sknoisy._image_folder)."""

import os
import pickle

import pytest

from sknoisy.datasets import image_folder

from .conftest import write_image_folder


@pytest.fixture
def root(tmp_path):
    return write_image_folder(tmp_path / "images", per_class=3)


def test_a_folder_lists_each_image_once_by_class(root):
    data = image_folder(root, image_size=16)
    assert data.classes == ["digit_0", "digit_1", "digit_2"]
    assert data.targets == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert data[0][0].shape == (3, 16, 16) and data.skipped == []
    pickle.loads(pickle.dumps(data))  # DataLoader workers may pickle it


def test_a_symbolic_link_loop_is_refused_by_path(root):
    os.symlink("..", root / "digit_0" / "up")
    with pytest.raises(ValueError, match=r"digit_0.*loops back"):
        image_folder(root)


def test_a_file_linked_into_two_classes_is_refused(root):
    os.symlink(root / "digit_0", root / "digit_1" / "zeros")
    with pytest.raises(ValueError, match="is in two classes"):
        image_folder(root)


def test_a_file_linked_twice_into_one_class_is_read_once(root):
    first = sorted(os.listdir(root / "digit_0"))[0]
    os.symlink(root / "digit_0" / first, root / "digit_0" / "again.png")
    (root / "digit_0" / "sub").mkdir()
    os.symlink(root / "digit_0" / first, root / "digit_0" / "sub" / "more.png")
    assert len(image_folder(root)) == 9


def test_corrupt_images_are_named_or_skipped(root):
    (root / "digit_1" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"1 image\(s\).*broken\.png.*skip-corrupt"):
        image_folder(root)
    data = image_folder(root, skip_corrupt=True)
    assert len(data) == 9
    assert [path.endswith("broken.png") for path, _ in data.skipped] == [True]


@pytest.mark.parametrize("layout", ["missing", "no classes", "no images"])
def test_what_is_not_an_image_folder_is_a_clear_error(tmp_path, layout):
    path = tmp_path / "folder"
    if layout != "missing":
        path.mkdir()
    if layout == "no images":
        (path / "cats").mkdir()
        (path / "cats" / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match="not an image folder"):
        image_folder(path)
