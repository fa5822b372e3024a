"""
Train on several processes
==========================

One fit over several processes (GPUs, or CPU cores of several machines): launch
this script with ``torchrun``, and every process runs it whole::

    torchrun --standalone --nproc_per_node=2 examples/train_on_several_processes.py

Each process calls ``fit`` on the same data and trains on its own shard of
every batch; after every epoch the processes combine the per-sample state (the
wrong-event counts here), so that each ends with the same fitted estimator,
the one a single process would have fitted on the same batches, up to the
rounding of gradients summed over two shards. Run it with plain ``python`` and
it trains in one process: the same flags here, scores within a few thousandths.

On GPUs, pass ``device="cuda"``: each process then trains on its own GPU
(``cuda:LOCAL_RANK``). This example is not run when the documentation is built.
"""

import torch.distributed as dist
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sknoisy import WrongEventClassifier
from sknoisy.metrics import detection_report
from sknoisy.noise import flip_labels

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
y_noisy, flipped = flip_labels(y, rate=0.3, random_state=0)

clf = WrongEventClassifier(max_epochs=30, random_state=0).fit(X, y_noisy)

# Every process holds the same fitted estimator; one of them reports.
if not dist.is_initialized() or dist.get_rank() == 0:
    processes = dist.get_world_size() if dist.is_initialized() else 1
    found = (clf.label_issues_ & flipped).sum()
    auroc = detection_report(flipped, clf.noise_scores_)["auroc"]
    print(f"trained on {processes} process(es)")
    print(
        f"flagged {clf.label_issues_.sum()} rows, {found} of the {flipped.sum()} "
        f"flipped labels; detection AUROC {auroc:.4f}"
    )
