"""The TF.js models: present, small, and equal to the PyTorch models they came from.

TF.js runs in Node (tests/tfjs_predict.mjs, pure @tensorflow/tfjs on the CPU backend),
so these tests check the files the page loads, not only the Keras twins.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO, load_models
from training.config import IMAGE_SIZE, LATENT_DIM, MODELS, WEIGHT_DTYPE, JudgeConfig, ModelArgs
from training.judge import Judge
from training.models import Autoencoder

PARTS = [f"{m}-{p}" for m in MODELS for p in ("encoder", "decoder")] + ["judge"]
TOLERANCE = 1e-4
# the tests that import TensorFlow (for the converter) run in one worker, which imports it once (7 s)
TENSORFLOW = pytest.mark.xdist_group("tensorflow")


def tfjs_predict(batches: dict) -> dict[Path, np.ndarray]:
    """Outputs of the TF.js models, computed by TF.js in Node: {model_dir: batch} in, {model_dir: outputs} out."""
    proc = subprocess.run(["node", str(REPO / "tests" / "tfjs_predict.mjs")], capture_output=True, text=True, cwd=REPO,
                          input=json.dumps({str(d): x.tolist() for d, x in batches.items()}))
    assert proc.returncode == 0, f"tfjs_predict failed on {list(batches)}:\n{proc.stderr[-2000:]}"
    return {Path(d): np.array(y, dtype=np.float64) for d, y in json.loads(proc.stdout).items()}


def latents(n: int = 16, seed: int = 0) -> np.ndarray:
    """Seeded codes, some far outside the range the models were trained on."""
    z = np.random.default_rng(seed).normal(size=(n, LATENT_DIM)) * 2
    z[0], z[1] = 0, [40, -40, 15, -7]
    z[2:6] *= 12
    return z.astype(np.float32)


@torch.no_grad()
def max_diffs(folder, models: dict, judge, images: np.ndarray, codes: np.ndarray) -> dict[str, float]:
    """Max abs difference TF.js vs PyTorch for each model in `folder`. `images` are
    (N, 1, 32, 32) as PyTorch takes them; TF.js gets them as NHWC. The VAE's encoder gives
    its mean, then its log-variance."""
    x, nhwc, want = torch.from_numpy(images), images.transpose(0, 2, 3, 1), {}
    for name, model in models.items():
        model = model.cpu().eval()
        mu, logvar = model.encode(x)
        want[f"{name}-encoder"] = (nhwc, (mu if logvar is None else torch.cat([mu, logvar], 1)).numpy())
        want[f"{name}-decoder"] = (codes, model.decode(torch.from_numpy(codes)).numpy().transpose(0, 2, 3, 1))
    want["judge"] = (nhwc, torch.softmax(judge.eval()(x), 1).numpy())
    got = tfjs_predict({folder / part: given for part, (given, _) in want.items()})
    diffs = {}
    for part, (_, expected) in want.items():
        out = got[folder / part]
        assert out.shape == expected.shape, (part, out.shape, expected.shape)
        if part.endswith("decoder"):
            assert out.min() >= 0 and out.max() <= 1
        if part == "judge":
            assert np.allclose(out.sum(1), 1, atol=1e-5)
        diffs[part] = float(np.abs(out - expected).max())
    return diffs


def test_tiny_build_has_the_five_small_models(tiny_build):
    folder = tiny_build["out"] / "models"
    total = 0
    for part in PARTS:
        spec = json.loads((folder / part / "model.json").read_text())
        assert spec["format"] == "layers-model"
        shards = [folder / part / p for g in spec["weightsManifest"] for p in g["paths"]]
        assert shards and all(p.is_file() for p in shards), part
        stored = {w.get("quantization", {}).get("dtype") for g in spec["weightsManifest"]
                  for w in g["weights"]}
        assert stored == {WEIGHT_DTYPE}, part
        total += sum(p.stat().st_size for p in (folder / part).iterdir())
    print(f"five TF.js models: {total} bytes")
    assert total < 800_000


def test_tiny_build_models_match_pytorch(tiny_build, mnist_dir):
    from training.data import load_mnist
    models = load_models(tiny_build["ckpt"])
    judge = load_models(tiny_build["ckpt"], ["judge"])["judge"]
    _, _, x_test, _ = load_mnist(mnist_dir, train_limit=1, test_limit=8)
    images = np.concatenate([x_test.numpy(), np.zeros((1, 1, IMAGE_SIZE, IMAGE_SIZE))]).astype(np.float32)
    diffs = max_diffs(tiny_build["out"] / "models", models, judge, images, latents())
    print("max abs diff TF.js vs PyTorch:", diffs)
    assert max(diffs.values()) <= TOLERANCE, diffs


def random_models(seed: int = 1) -> tuple[dict[str, Autoencoder], Judge]:
    """Freshly initialised models with unequal widths, so that any transposed copy shows,
    rounded to the stored precision as training leaves them; and a judge."""
    from training.quantise import round_weights
    torch.manual_seed(seed)
    args = ModelArgs(channels=(5, 7, 6), hidden=11, decoder_hidden=(9, 13))
    models = {"ae": Autoencoder(args), "vae": Autoencoder(ModelArgs(**{**vars(args), "variational": True}))}
    judge = Judge(JudgeConfig(channels=(3, 5), hidden=7))
    for m in (*models.values(), judge):
        round_weights(m)
    return models, judge


@TENSORFLOW
def test_export_of_random_weights_matches_pytorch(tmp_path):
    from training.export_tfjs import export_models
    models, judge = random_models()
    export_models(models, judge, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(PARTS)
    images = np.random.default_rng(2).random((6, 1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    diffs = max_diffs(tmp_path, models, judge, images, latents(seed=3))
    assert max(diffs.values()) <= TOLERANCE, diffs


@TENSORFLOW
def test_uint8_rounding_mirrors_the_converter():
    """training.quantise.affine_uint8 gives exactly what TF.js decodes from the converter's uint8."""
    from tensorflowjs.quantization import quantize_weights
    from training.quantise import affine_uint8
    rng = np.random.default_rng(0)
    for shape, shift in [((300, 40), 0.0), ((7,), 2.5), ((64, 1, 3, 3), -0.3), ((5, 5), 0.0)]:
        w = (rng.normal(size=shape) * rng.uniform(0.01, 3) + shift).astype(np.float32)
        q, meta = quantize_weights(w, np.uint8)
        decoded = (q.astype(np.float64) * meta["scale"] + meta["min"]).astype(np.float32)  # as TF.js does
        assert np.array_equal(affine_uint8(w), decoded)
        assert len(np.unique(decoded)) <= 256


@TENSORFLOW
def test_export_refuses_weights_not_rounded_to_stored_precision(tmp_path):
    from training.export_tfjs import export_models
    models, judge = random_models()
    with torch.no_grad():
        models["vae"].decoder.net[0].bias[0] += 1e-3
    with pytest.raises(ValueError, match="round"):
        export_models(models, judge, tmp_path)


@TENSORFLOW
def test_export_refuses_a_wrong_weight_copy(tmp_path, monkeypatch):
    from training import export_tfjs
    make = export_tfjs._encoder

    def chw_fc(keras, model):  # the dense kernel after the flatten left in PyTorch's CHW order
        twin, weights = make(keras, model)
        fc = model.encoder.fc
        return twin, [(n, [export_tfjs._np(fc.weight.T), v[1]] if n == "fc" else v)
                      for n, v in weights]

    monkeypatch.setattr(export_tfjs, "_encoder", chw_fc)
    with pytest.raises(RuntimeError, match="differs from PyTorch"):
        export_tfjs.export_models(*random_models(), tmp_path)
