"""An image folder read safely: symbolic-link loops refused, corrupt files found.

torchvision's ``ImageFolder`` walks its root with ``os.walk(followlinks=True)``:
a link to an ancestor (``cat/up -> ..``) makes it list every image again under
each class it passes, and a file that cannot be decoded is found only when a
training epoch reaches it. :class:`SafeImageFolder` lists the files itself, each
real file once, and decodes every image once before training starts.
"""

from __future__ import annotations

from pathlib import Path

from torchvision import transforms
from torchvision.datasets import ImageFolder

IMAGE_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".ppm",
    ".bmp",
    ".pgm",
    ".tif",
    ".tiff",
    ".webp",
)
"""The files an image folder's classes are read from (torchvision's)."""


def image_files(class_dir: Path) -> list[Path]:
    """The image files under ``class_dir``, each real file once; loops refused.

    Symbolic links are followed, but a directory met again on its own path (a
    link to an ancestor) is an error, and a file reached twice through links is
    listed once.
    """
    files, seen = [], set()
    stack = [(Path(class_dir), frozenset())]
    while stack:
        directory, ancestors = stack.pop()
        real = directory.resolve()
        if real in ancestors:
            raise ValueError(
                f"{directory}: a symbolic link loops back to {real}; remove the "
                "link or point it elsewhere."
            )
        for entry in directory.iterdir():
            if entry.is_dir():
                stack.append((entry, ancestors | {real}))
            elif entry.suffix.lower() in IMAGE_EXTENSIONS:
                target = entry.resolve()
                if target not in seen:
                    seen.add(target)
                    files.append(entry)
    return sorted(files)


def corrupt_images(paths) -> list[tuple[str, str]]:
    """The images among ``paths`` that PIL cannot decode, with the reason."""
    from PIL import Image

    corrupt = []
    for path in paths:
        try:
            with Image.open(path) as image:
                image.load()
        except Exception as error:  # PIL raises many types for broken files
            corrupt.append((str(path), f"{type(error).__name__}: {error}"))
    return corrupt


class SafeImageFolder(ImageFolder):
    """torchvision's ``ImageFolder`` over files listed safely and checked.

    Made by :func:`sknoisy.datasets.image_folder`, which documents the
    parameters (``root`` is its ``path``).

    Attributes
    ----------
    skipped : list of (str, str)
        The path and the reason of each image left out.
    """

    def __init__(
        self,
        root,
        image_size: int = 32,
        grayscale: bool = False,
        skip_corrupt: bool = False,
    ):
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"{root}: not an image folder (no such directory).")
        self.skip_corrupt = skip_corrupt
        steps = [transforms.Resize((image_size, image_size))]
        if grayscale:
            steps.append(transforms.Grayscale())
        steps.append(transforms.ToTensor())
        super().__init__(root, transform=transforms.Compose(steps))

    def find_classes(self, directory):
        classes = sorted(e.name for e in Path(directory).iterdir() if e.is_dir())
        if not classes:
            raise ValueError(
                f"{directory}: not an image folder: it has no class subfolders."
            )
        return classes, {name: i for i, name in enumerate(classes)}

    def make_dataset(self, directory, class_to_idx, *args, **kwargs):
        samples, owner = [], {}
        for name, index in class_to_idx.items():
            for file in image_files(Path(directory) / name):
                real = file.resolve()
                if owner.setdefault(real, name) != name:
                    raise ValueError(
                        f"{real} is in two classes, {owner[real]!r} and {name!r} "
                        "(through a symbolic link); give each image one class."
                    )
                samples.append((str(file), index))
        if not samples:
            raise ValueError(
                f"{directory}: not an image folder: no image files "
                f"({', '.join(IMAGE_EXTENSIONS)}) in its class subfolders."
            )
        self.skipped = corrupt_images(file for file, _ in samples)
        if self.skipped and not self.skip_corrupt:
            listed = "; ".join(f"{file} ({why})" for file, why in self.skipped[:3])
            more = len(self.skipped) - 3
            raise ValueError(
                f"{len(self.skipped)} image(s) cannot be read: {listed}"
                f"{f' and {more} more' if more > 0 else ''}. Remove them, or skip "
                "them (--skip-corrupt)."
            )
        bad = {file for file, _ in self.skipped}
        return [sample for sample in samples if sample[0] not in bad]
