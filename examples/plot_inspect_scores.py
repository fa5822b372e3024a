"""
Read the scores and the training history
========================================

Both methods score every label from what happens to it during one training
run. This example plots what they record: for ``WrongEventClassifier``, the
prediction changes that choose its base model, the wrong events of every row
and the Beta mixture that turns them into probabilities; for
``ALRClassifier``, the soft labels and their entropy over training. Everything
shown comes from the fitted attributes and from the skorch net's ``history``
(``clf.net_.history``), one entry per epoch.
"""

# sphinx_gallery_thumbnail_number = 3

# %%
# Digits with pair noise
# ----------------------
# 30% of the labels flipped to the next class (``c -> c + 1``), the kind of
# noise a confusable pair of classes makes. Both estimators get the same small
# network and 30 epochs.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy.mixture import BetaMixture, normalise_counts
from sknoisy.noise import pair_noise

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
y_noisy, flipped = pair_noise(y, rate=0.3, random_state=0)

settings = dict(hidden_layer_sizes=(128,), max_epochs=30, batch_size=64, random_state=0)
ido = WrongEventClassifier(**settings).fit(X, y_noisy)
alr = ALRClassifier(**settings).fit(X, y_noisy)

# %%
# The scores, clean against flipped
# ---------------------------------
# ``noise_scores_`` is in [0, 1] for both methods, higher for a label more
# likely wrong, and both flag the rows above 0.5 (``label_issues_``). IDO's
# scores are posteriors of a mixture and sit at the ends; ALR's are the mass
# each soft label has moved away from the given label, and spread out.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
bins = np.linspace(0, 1, 31)
for ax, clf in zip(axes, (ido, alr)):
    ax.hist(clf.noise_scores_[~flipped], bins=bins, alpha=0.6, label="clean")
    ax.hist(clf.noise_scores_[flipped], bins=bins, alpha=0.6, label="flipped")
    ax.axvline(0.5, color="k", linestyle=":")
    ax.set_yscale("log")
    ax.set_title(f"{type(clf).__name__}: {clf.label_issues_.sum()} flagged")
    ax.set_xlabel("noise score")
axes[0].set_ylabel("rows")
axes[0].legend()
fig.tight_layout()
fig.savefig("inspect_scores_histograms.png")

# %%
# IDO's two stages
# ----------------
# Stage 1 is plain training. While the network learns the clean patterns, the
# number of rows whose prediction changes from one epoch to the next falls;
# once it starts memorising wrong labels, it rises again. IDO keeps the model
# at the first local minimum (Label Wave), ``base_epoch_``, and starts stage 2
# from it. In stage 2 the mixture is refitted after every epoch, and the share
# of rows it calls noisy (``noisy_fraction``) levels off close to the true
# noise rate; a little above it here, as it also doubts some hard clean rows.
history = ido.net_.history
changes = [(e["epoch"], e["prediction_changes"]) for e in history if e["stage"] == 1]
changes = [(epoch, pc) for epoch, pc in changes if pc is not None]
stage2 = [(e["epoch"], e["noisy_fraction"]) for e in history if e["stage"] == 2]
stage2_start = stage2[0][0]

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(*zip(*changes), marker="o")
left.axvline(ido.base_epoch_, color="k", linestyle=":", label="base epoch")
left.set_xlabel("epoch (stage 1)")
left.set_ylabel("rows whose prediction changed")
left.set_yscale("log")
left.set_title("Prediction changes (Label Wave)")
left.legend()
right.plot(*zip(*stage2), marker="o", label="called noisy by the mixture")
right.axhline(flipped.mean(), color="k", linestyle=":", label="truly flipped")
right.set_xlabel(f"epoch (stage 2, from epoch {stage2_start})")
right.set_ylabel("fraction of rows")
right.set_ylim(0, 0.6)
right.set_title("Rows the mixture calls noisy")
right.legend()
fig.tight_layout()
fig.savefig("inspect_scores_ido_history.png")

# %%
# Wrong events and the Beta mixture
# ---------------------------------
# A wrong event is a training-mode forward pass whose prediction differs from
# the given label: one pass per epoch in stage 1, two views per epoch in stage
# 2. Flipped labels collect many.
#
# The mixture is fitted on the counts scaled to [0, 1] (``(count - min) /
# (max - min)``); its parameters after each epoch are in the history, under
# ``"mixture"``: the global mixture, and one per given class (keyed by the
# class's position in ``classes_``). Left: the counts and the global mixture's
# two components, clean and noisy, scaled to the histogram. Right: the
# probability that a label is clean, ``clean_proba_``, against its count. Each
# class has its own mixture, so the count at which a label turns doubtful
# differs from class to class.
counts = ido.wrong_events_
low, high = counts.min(), counts.max()
stage1_epochs = sum(e["stage"] == 1 for e in history)
passes = stage1_epochs + 2 * (len(history) - stage1_epochs)
print(f"{passes} passes per row; wrong events from {low} to {high}")
params = history[-1, "mixture"]["global"]
mixture = BetaMixture(
    alphas=np.array(params["alphas"]),
    betas=np.array(params["betas"]),
    weights=np.array(params["weights"]),
)
grid = np.linspace(low, high, 400)
# w_k * pdf_k on the scaled counts, turned into rows per count
density = np.exp(mixture.log_weighted_likelihood(normalise_counts(grid, low, high)))
density *= len(counts) / (high - low)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
edges = np.arange(low, high + 2) - 0.5
left.hist(
    [counts[~flipped], counts[flipped]],
    bins=edges,
    stacked=True,
    label=["clean", "flipped"],
)
left.plot(grid, density[0], color="tab:green", label="clean component")
left.plot(grid, density[1], color="tab:red", label="noisy component")
left.set_yscale("log")
left.set_ylim(0.8, 2 * len(counts))
left.set_xlabel("wrong events per row")
left.set_ylabel("rows")
left.set_title(f"Wrong events, base epoch {ido.base_epoch_}")
left.legend(fontsize="small")
for label in ido.classes_:
    rows = y_noisy == label
    order = np.argsort(counts[rows])
    right.plot(counts[rows][order], ido.clean_proba_[rows][order], label=str(label))
right.axhline(0.5, color="k", linestyle=":")
right.set_xlabel("wrong events per row")
right.set_ylabel("clean_proba_")
right.set_title("Probability of a clean label, per given class")
right.legend(title="class", ncol=2, fontsize="small")
fig.tight_layout()
fig.savefig("inspect_scores_mixture.png")

# %%
# ALR's soft labels over training
# -------------------------------
# ALR warms up on the given labels for ``warmup_epochs_`` epochs (chosen by the
# same Label Wave rule), then lets every soft label follow the model's
# predictions. The history records the mean entropy of the soft labels (0 while
# they are still the one-hot given labels) and the share of rows whose soft
# label's argmax has left the given class (``relabelled_fraction``). The
# entropy rises while the soft labels move, then falls as the entropy term
# hardens them on their new class; the relabelled share climbs to near the
# true noise rate.
history = alr.net_.history
epochs = history[:, "epoch"]
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(
    epochs, history[:, "soft_label_entropy"], marker="o", label="mean entropy (nats)"
)
ax.plot(
    epochs, history[:, "relabelled_fraction"], marker="s", label="relabelled fraction"
)
ax.axhline(flipped.mean(), color="k", linestyle=":", label="truly flipped")
ax.axvline(
    alr.warmup_epochs_ + 0.5, color="grey", linestyle="--", label="end of warm-up"
)
ax.set_xlabel("epoch")
ax.set_title("ALR's soft labels, per epoch")
ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig("inspect_scores_alr_history.png")

# %%
# One soft label per row
# ----------------------
# ``soft_labels_`` has one row per sample and one column per class. Left: the
# entropy of each row's final soft label; the flipped rows' soft labels are
# the ones that moved, and moving spreads them out. Right: the soft labels of
# a flipped row and of a clean one, next to their given and true labels.
soft = alr.soft_labels_
entropy = -np.sum(soft * np.log(np.clip(soft, 1e-12, None)), axis=1)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
bins = np.linspace(0, entropy.max(), 31)
left.hist(entropy[~flipped], bins=bins, alpha=0.6, label="clean")
left.hist(entropy[flipped], bins=bins, alpha=0.6, label="flipped")
left.set_yscale("log")
left.set_xlabel("soft-label entropy (nats)")
left.set_ylabel("rows")
left.set_title("Entropy of the final soft labels")
left.legend()
flipped_row = np.flatnonzero(flipped)[0]
clean_row = np.flatnonzero(~flipped)[0]
width = 0.4
for offset, row, name in (
    (-width / 2, flipped_row, "flipped"),
    (width / 2, clean_row, "clean"),
):
    right.bar(
        alr.classes_ + offset,
        soft[row],
        width,
        label=f"row {row} ({name}): given {y_noisy[row]}, true {y[row]}",
    )
right.set_xticks(alr.classes_)
right.set_xlabel("class")
right.set_ylabel("soft label")
right.set_title("Two soft labels")
right.legend(fontsize="small")
fig.tight_layout()
fig.savefig("inspect_scores_soft_labels.png")
