"""The process pool that trains the build's models: `train_models` is the one path that
decides between reusing a checkpoint and training. It trains what is missing, several models
at a time, each process (`training/worker.py`) training its share one after the other.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

from .checkpoints import load_checkpoint
from .config import REPO, JudgeConfig, TrainConfig
from .errors import UserError


def _child_setup(parent: int, libc) -> None:
    """Runs in each training process before it starts Python: Ctrl-C is the parent's to
    handle (SIG_IGN survives exec), and the process dies with the parent (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)              # PR_SET_PDEATHSIG
    if os.getppid() != parent:                     # the parent died before prctl took effect
        os._exit(1)


def train_models(configs: dict[str, TrainConfig | JudgeConfig], data_dir: Path, ckpt_dir: Path, device: str,
                 retrain: bool = False, log=tqdm.write, progress: bool = True) -> dict:
    """{key: (model, metrics, trained)} for each config in `configs` ({key: config}): good
    checkpoints are reused (unless `retrain`), the other models are trained in as many
    processes as there are CPU cores, each training its share one model after the other
    (one thread each: small models train faster side by side than one after the other with
    every core); keys that share a config share one run. The first failure stops every
    training and raises its UserError; a killed build takes its training processes with it."""
    paths = {key: Path(ckpt_dir) / config.checkpoint_name() for key, config in configs.items()}
    done, todo = {}, {}
    for key, config in configs.items():
        if paths[key] in done or paths[key] in todo:
            continue
        loaded = None if retrain else load_checkpoint(paths[key], config, log)
        if loaded is None:
            todo[paths[key]] = config
        else:
            done[paths[key]] = (*loaded, False)
    cores = os.cpu_count() or 1
    lanes = [[] for _ in range(max(1, min(len(todo), cores)))]
    work = [0.0] * len(lanes)
    for path, config in todo.items():            # each model to the least busy lane
        k = work.index(min(work))
        lanes[k].append({"kind": config.kind, "config": config.to_dict(), "path": str(path)})
        work[k] += 1 / 3 if config.kind == "judge" else 1
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        libc = None
    parent, running = os.getpid(), []
    try:
        for position, jobs in enumerate(lanes):
            if not jobs:
                continue
            lane = {"jobs": jobs, "data_dir": str(data_dir), "device": device, "progress": progress,
                    "threads": max(1, cores // len(lanes)), "position": position}
            running.append((jobs, subprocess.Popen(
                [sys.executable, "-m", "training.worker", json.dumps(lane)], cwd=REPO,
                stdout=subprocess.PIPE, text=True, preexec_fn=lambda: _child_setup(parent, libc))))
        while running:
            time.sleep(0.05)
            for jobs, proc in list(running):
                if proc.poll() is None:
                    continue
                running.remove((jobs, proc))
                said = proc.stdout.read().strip()
                if proc.returncode:
                    raise UserError(said or f"a training process failed (exit code {proc.returncode}); "
                                    f"its error is printed above")
                for job in jobs:
                    path = Path(job["path"])
                    config, name = todo[path], todo[path].name.upper()
                    loaded = load_checkpoint(path, config, log)
                    if loaded is None:
                        raise UserError(f"training the {name} left no checkpoint this build can use in "
                                        f"{ckpt_dir} (see the line above; was the code changed during the "
                                        f"build?): run the build again")
                    done[path] = (*loaded, True)
    finally:
        for _, proc in running:
            proc.kill()
            proc.wait()
    return {key: done[paths[key]] for key in configs}
