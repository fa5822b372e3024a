"""
Inspect the noise scores
========================

How the scores of the two methods separate flipped from clean labels, and how the
wrong-event counts of ``WrongEventClassifier`` grow over training.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sknoisy import ALRClassifier, WrongEventClassifier
from sknoisy.noise import pair_noise

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
y_noisy, flipped = pair_noise(y, rate=0.3, random_state=0)  # c -> c + 1

# %%
# Score histograms, clean vs flipped
# ----------------------------------
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
ido = WrongEventClassifier(random_state=0).fit(X, y_noisy)
alr = ALRClassifier(random_state=0).fit(X, y_noisy)
bins = np.linspace(0, 1, 31)
for ax, clf in zip(axes[:2], (ido, alr)):
    ax.hist(clf.noise_scores_[~flipped], bins=bins, alpha=0.6, label="clean")
    ax.hist(clf.noise_scores_[flipped], bins=bins, alpha=0.6, label="flipped")
    ax.set_title(type(clf).__name__)
    ax.set_xlabel("noise score")
    ax.legend()

# %%
# Wrong events: flipped labels collect them
# -----------------------------------------
counts = ido.wrong_events_
axes[2].hist([counts[~flipped], counts[flipped]], bins=30, label=["clean", "flipped"])
axes[2].axvline(np.median(counts), color="k", linestyle=":")
axes[2].set_title(f"wrong events (base epoch {ido.base_epoch_})")
axes[2].set_xlabel("wrong events per sample")
axes[2].legend()
fig.tight_layout()
plt.show()
