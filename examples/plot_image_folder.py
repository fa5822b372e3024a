"""
Find label errors in an image folder
====================================

Images sorted into one folder per class, some of them in the wrong folder:
read the folder with :func:`sknoisy.datasets.image_folder`, fit a noise-robust
estimator on it (the images stream from disk, a batch at a time), and look at
the images it finds most suspicious, with their file names.

The folder is built here, in a temporary directory, from scikit-learn's
handwritten digits, upscaled to 32x32 colour PNG files, with 20% of the images
filed under a wrong class. From the command line, ``sknoisy audit photos/``
does the same on your own folder.
"""

# %%
# An image folder with misfiled images
# ------------------------------------
# One subfolder per class, as torchvision's ``ImageFolder`` expects. Each digit
# is drawn in a random colour; ``flip_labels`` picks exactly 20% of the images
# and a wrong folder for each. We keep the true class of every file, to check
# the audit at the end.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from sknoisy import ALRClassifier
from sknoisy.audit import find_label_issues
from sknoisy.datasets import image_folder
from sknoisy.noise import flip_labels

digits = load_digits()
rng = np.random.default_rng(0)
rows = np.concatenate([np.flatnonzero(digits.target == c)[:50] for c in range(10)])
true_class = digits.target[rows]
folder_class, _ = flip_labels(true_class, rate=0.2, random_state=0)

workdir = tempfile.TemporaryDirectory()
root = Path(workdir.name) / "digits"
truth = {}  # file name -> the folder it belongs in
for i, (row, folder) in enumerate(zip(rows, folder_class)):
    grey = Image.fromarray((digits.images[row] / 16 * 255).astype(np.uint8))
    grey = np.asarray(grey.resize((32, 32), Image.BILINEAR)) / 255
    colour = rng.uniform(0.3, 1.0, size=3)
    pixels = (grey[..., None] * colour * 255).astype(np.uint8)
    path = root / f"digit_{folder}" / f"img_{i:03d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    truth[path.name] = f"digit_{true_class[i]}"
print(f"{len(rows)} images in {len(list(root.iterdir()))} class folders")

# %%
# Read the folder
# ---------------
# ``image_folder`` lists every image once (it refuses symbolic-link loops),
# decodes each before training so that a broken file is named now rather than
# in the middle of an epoch (``skip_corrupt=True`` leaves such files out), and
# resizes the images as they are loaded: 16x16 is plenty for these digits. Its
# ``classes`` are the folder names, and ``samples`` the files with their class.
dataset = image_folder(root, image_size=16)
print(dataset.classes)
first_file, _ = dataset.samples[0]
print(f"{len(dataset)} images; the first: {Path(first_file).relative_to(root)}")
image, label = dataset[0]
print("its item:", tuple(image.shape), image.dtype, "class", label)

# %%
# One fit on the Dataset
# ----------------------
# The estimators take the Dataset itself as ``X``, with the labels from its
# ``targets``; per-row results are indexed like the dataset, so
# ``noise_scores_[i]`` is about ``dataset.samples[i]``. For images the default
# network is :class:`sknoisy.modules.SmallCNN`; ``module__width=16`` and 30
# epochs keep this example fast on a CPU. On a real folder, use the default
# width, ``device="cuda"`` if you have a GPU, and ``iterator_train__num_workers``
# to decode images in parallel.
clf = ALRClassifier(module__width=16, max_epochs=30, batch_size=32, random_state=0)
clf.fit(dataset)

given = np.array(dataset.targets)
report = find_label_issues(clf, given)
print(report)

# %%
# The most suspicious files
# -------------------------
# The report ranks every image; its labels are the class indices of
# ``dataset.classes``. Each file name tells where it is, the folder it was in,
# and the folder the method would put it in.
table = report.table
table["file"] = [Path(dataset.samples[row][0]).name for row in table["row"]]
table["folder"] = [dataset.classes[c] for c in table["given_label"]]
table["suggested"] = [dataset.classes[c] for c in table["refined_label"]]
shown = ["file", "folder", "suggested", "noise_score"]
print(table[shown].head(10).round(3).to_string(index=False))

# %%
# Look at them
# ------------
# People judge suspected label errors by eye. The 24 most suspicious images,
# each titled with the folder it was filed in, the folder the method suggests
# and its noise score; a star marks the images that were indeed misfiled (the
# check that a real audit makes by looking). A flagged image keeps its folder
# as the suggestion when the final model is not sure enough of another class.
top = table.head(24)
fig, axes = plt.subplots(3, 8, figsize=(12, 6.3))
for ax, (_, entry) in zip(axes.flat, top.iterrows()):
    with Image.open(dataset.samples[entry["row"]][0]) as picture:
        ax.imshow(picture)
    misfiled = truth[entry["file"]] != entry["folder"]
    move = f"{entry['folder']} -> {entry['suggested']}".replace("digit_", "")
    mark = "* " if misfiled else ""
    ax.set_title(f"{mark}{move}\n{entry['noise_score']:.2f}", fontsize=9)
    ax.axis("off")
fig.suptitle("Most suspicious images: folder -> suggested, noise score (* misfiled)")
fig.tight_layout()
fig.savefig("image_folder_suspects.png")

# %%
# Flags per folder, and how much to review
# ----------------------------------------
# Left: per class folder, the images the method flags (their soft label has
# moved more than half away from the folder's class) next to the ones that are
# really misfiled. After a short training the flags are cautious: nearly all
# are right, but some misfiled images are not flagged yet. Right: the ranking
# finds those too; reviewing the images in order of their score, nearly every
# image until the last misfiled one is a misfiled one, where reviewing them in
# random order finds them at the rate of the noise.
misfiled = np.array(
    [truth[Path(path).name] != dataset.classes[c] for path, c in dataset.samples]
)
flags = clf.label_issues_
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
positions = np.arange(len(dataset.classes))
left.bar(positions - 0.2, np.bincount(given[flags], minlength=10), 0.4, label="flagged")
left.bar(
    positions + 0.2, np.bincount(given[misfiled], minlength=10), 0.4, label="misfiled"
)
left.set_xticks(positions, [name.removeprefix("digit_") for name in dataset.classes])
left.set_xlabel("class folder")
left.set_ylabel("images")
left.set_title(f"{flags.sum()} flagged, {(flags & misfiled).sum()} of them misfiled")
left.legend()
reviewed = np.arange(1, len(table) + 1)
right.plot(reviewed, np.cumsum(misfiled[table["row"]]), label="by noise score")
right.plot(reviewed, reviewed * misfiled.mean(), ":", label="in random order")
right.axhline(misfiled.sum(), color="k", linewidth=1)
right.set_xlabel("images reviewed")
right.set_ylabel("misfiled images found")
right.set_title(f"{misfiled.sum()} misfiled images in all")
right.legend()
fig.tight_layout()
fig.savefig("image_folder_review.png")

# %%
# The temporary folder is no longer needed.
workdir.cleanup()
