"""
Audit images through your own pretrained network
================================================

Training a convolutional network on large images is slow on a CPU, and a
network pretrained on a large collection already knows what is in them. The
usual route is then to pass every image once through that network, keep its
embedding (the features before its classifier), and fit a noise-robust
estimator on the embeddings: a small MLP on a few hundred numbers per image,
which trains in seconds.

Nothing is downloaded here: a randomly initialised torchvision ResNet-18 stands
in for your network. With yours, load its weights where shown below; everything
else stays the same. The audit can only be as good as the embeddings, and
those of a real pretrained network are far better than random ones.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# A folder of images, some misfiled
# ---------------------------------
# As in the image-folder example: scikit-learn's digits as 64x64 colour PNG
# files in one folder per class, 20% of them filed under a wrong class.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torchvision.models import resnet18

from sknoisy import WrongEventClassifier
from sknoisy.audit import find_label_issues
from sknoisy.datasets import image_folder
from sknoisy.noise import flip_labels

digits = load_digits()
rng = np.random.default_rng(0)
rows = np.concatenate([np.flatnonzero(digits.target == c)[:50] for c in range(10)])
folder_class, _ = flip_labels(digits.target[rows], rate=0.2, random_state=0)

workdir = tempfile.TemporaryDirectory()
root = Path(workdir.name) / "digits"
truth = {}  # file name -> the folder it belongs in
for i, (row, folder) in enumerate(zip(rows, folder_class)):
    grey = Image.fromarray((digits.images[row] / 16 * 255).astype(np.uint8))
    grey = np.asarray(grey.resize((64, 64), Image.BILINEAR)) / 255
    pixels = (grey[..., None] * rng.uniform(0.3, 1.0, size=3) * 255).astype(np.uint8)
    path = root / f"digit_{folder}" / f"img_{i:03d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    truth[path.name] = f"digit_{digits.target[row]}"

dataset = image_folder(root, image_size=64)
print(len(dataset), "images in", len(dataset.classes), "classes")

# %%
# The pretrained network, without its classifier
# ----------------------------------------------
# Build the architecture, load your weights, and replace the final layer by
# the identity, so that the network returns its 512 features per image.
# ``eval()`` freezes batch normalisation and dropout: embeddings are computed,
# not trained.
torch.manual_seed(0)  # the stand-in's random weights
backbone = resnet18(weights=None)
# With your own weights, a file on disk:
#     backbone.load_state_dict(torch.load("resnet18.pth", map_location="cpu"))
# or torchvision's ImageNet weights (downloaded once, then cached):
#     backbone = resnet18(weights=torchvision.models.ResNet18_Weights.DEFAULT)
backbone.fc = torch.nn.Identity()
backbone.eval()

# %%
# Embeddings, once per image
# --------------------------
# The dataset yields pixel values in [0, 1]; a network pretrained on ImageNet
# expects them standardised with ImageNet's channel statistics. Under
# ``torch.no_grad()`` no graph is kept, which saves memory and time. On a large
# folder, pass ``num_workers`` to the loader, and save the embeddings
# (``np.save``) so that every later audit starts from them.
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
loader = torch.utils.data.DataLoader(dataset, batch_size=100)
with torch.no_grad():
    embeddings = torch.cat([backbone((x - mean) / std) for x, _ in loader]).numpy()
labels = np.array(dataset.targets)
print("embeddings:", embeddings.shape)

# %%
# A noise-robust estimator on the embeddings
# ------------------------------------------
# The embeddings are a table: standardise them and fit any sknoisy estimator.
# Row ``i`` of the embeddings is ``dataset.samples[i]``, so the per-row results
# point straight back at the files.
model = make_pipeline(
    StandardScaler(),
    WrongEventClassifier(
        hidden_layer_sizes=(128,), max_epochs=30, batch_size=64, random_state=0
    ),
)
model.fit(embeddings, labels)
report = find_label_issues(model, labels)
print(report)

table = report.table
table["file"] = [Path(dataset.samples[row][0]).name for row in table["row"]]
table["folder"] = [dataset.classes[c] for c in table["given_label"]]
table["suggested"] = [dataset.classes[c] for c in table["refined_label"]]
table["misfiled"] = [truth[f] != d for f, d in zip(table["file"], table["folder"])]
shown = ["file", "folder", "suggested", "noise_score", "misfiled"]
print(table[shown].head(10).to_string(index=False))

# %%
# Scores of the misfiled images
# -----------------------------
# ``WrongEventClassifier``'s noise scores are posteriors of a mixture over its
# wrong events (see the example on reading the scores): most images sit near 0
# or near 1, and 0.5 is the bar for a flag. The misfiled images, which we know
# here, are nearly all above it. Many scores are exactly 1: the report orders
# such ties by the model's belief in the given label (``given_label_proba_``),
# lowest first.
misfiled = table.sort_values("row")["misfiled"].to_numpy()
scores = model[-1].noise_scores_
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(0, 1, 26)
ax.hist(scores[~misfiled], bins=bins, alpha=0.6, label="filed right")
ax.hist(scores[misfiled], bins=bins, alpha=0.6, label="misfiled")
ax.axvline(0.5, color="k", linestyle=":")
ax.set_xlabel("noise score")
ax.set_ylabel("images")
ax.set_yscale("log")
ax.set_title(
    f"{model[-1].label_issues_.sum()} flagged; "
    f"{(model[-1].label_issues_ & misfiled).sum()} of the {misfiled.sum()} misfiled"
)
ax.legend()
fig.tight_layout()
fig.savefig("pretrained_embeddings_scores.png")

# %%
# The suspects, by eye
# --------------------
# The 16 most suspicious images, titled ``folder -> suggested folder``; a star
# marks the ones that were indeed misfiled.
fig, axes = plt.subplots(2, 8, figsize=(12, 3.8))
for ax, (_, entry) in zip(axes.flat, table.head(16).iterrows()):
    with Image.open(dataset.samples[entry["row"]][0]) as picture:
        ax.imshow(picture)
    move = f"{entry['folder']} -> {entry['suggested']}".replace("digit_", "")
    ax.set_title(("* " if entry["misfiled"] else "") + move, fontsize=9)
    ax.axis("off")
fig.tight_layout()
fig.savefig("pretrained_embeddings_suspects.png")

# %%
# The fitted pipeline is also a classifier of new images: embed them with the
# same network and call ``model.predict``. The temporary folder can go.
workdir.cleanup()
