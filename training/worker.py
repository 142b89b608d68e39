"""One training process: `python -m training.worker JOB`, started by train.train_models.

JOB is a JSON object: the training config, the data folder, the checkpoint path, the
device, threads, and the progress bar's line. Progress and logs go to stderr. On a
problem the user can fix, the one-line explanation goes to stdout (the parent reports
it) and the exit status is 2; no checkpoint is written unless training succeeded.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path


def main(job: dict) -> None:
    import torch
    from tqdm import tqdm

    from .config import CONFIGS
    from .data import load_mnist
    from .judge import train_judge
    from .train import save_checkpoint, train
    torch.set_num_threads(job["threads"])
    config = CONFIGS[job["kind"]].from_dict(job["config"])
    x_train, y_train, x_test, y_test = load_mnist(Path(job["data_dir"]), config.train_limit, config.test_limit)
    device, log = torch.device(job["device"]), functools.partial(tqdm.write, file=sys.stderr)
    if config.kind == "judge":
        model, metrics = train_judge(config, x_train, y_train, x_test, y_test, device, log,
                                     job["progress"], job["position"])
    else:
        model, metrics = train(config, x_train, x_test, device, log, job["progress"], job["position"])
    save_checkpoint(model, metrics, config, Path(job["path"]))


if __name__ == "__main__":
    from .errors import UserError
    try:
        main(json.loads(sys.argv[1]))
    except UserError as e:
        print(e, flush=True)
        sys.exit(2)
