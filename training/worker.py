"""One training process: `python -m training.worker LANE`, started by pool.train_models.

LANE is a JSON object: the jobs (each a model's kind, training config and checkpoint
path), trained one after the other, and the data folder, device, threads and progress
bar's line they share. Progress and logs go to stderr. On a problem the user can fix, the
one-line explanation goes to stdout (the parent reports it) and the exit status is 2; a
model's checkpoint is written only when its training succeeded.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path


def main(lane: dict) -> None:
    import torch
    from tqdm import tqdm

    from .config import CONFIGS
    from .data import load_mnist
    from .checkpoints import save_checkpoint
    from .errors import UserError
    from .train import train, train_judge
    torch.set_num_threads(lane["threads"])
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False   # float32 on a GPU too
    device, log = torch.device(lane["device"]), functools.partial(tqdm.write, file=sys.stderr)
    data = {}
    for job in lane["jobs"]:
        config = CONFIGS[job["kind"]].from_dict(job["config"])
        limits = (config.train_limit, config.test_limit)
        if limits not in data:
            data[limits] = load_mnist(Path(lane["data_dir"]), *limits)
        x_train, y_train, x_test, y_test = data[limits]
        if config.kind == "judge":
            model, metrics = train_judge(config, x_train, y_train, x_test, y_test, device, log,
                                         lane["progress"], lane["position"])
        else:
            model, metrics = train(config, x_train, x_test, device, log, lane["progress"], lane["position"])
        try:
            save_checkpoint(model, metrics, config, Path(job["path"]))
        except RuntimeError as e:            # how torch's writer reports a write that failed
            raise UserError(f"the checkpoint {job['path']} could not be written ({str(e).splitlines()[0]}): "
                            f"check the free space there, and run the build again") from None


if __name__ == "__main__":
    from .errors import UserError, file_problem
    try:
        main(json.loads(sys.argv[1]))
    except UserError as e:
        print(e, flush=True)
        sys.exit(2)
    except OSError as e:                     # a checkpoint that could not be written (a full disk, say)
        print(file_problem(e), flush=True)
        sys.exit(2)
