"""Models, losses, data loading, checkpoints and figure data, on tiny real data."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from conftest import TINY, load_json, run_build
from training.config import IMAGE_SIZE, LATENT_DIM, ModelArgs, TrainConfig
from training.data import DataError, load_mnist
from training.figures import dequantise_pca, pca_projection
from training.inputs import frame_like_mnist, ood_images, rasterise
from training.models import Autoencoder, kl_divergence, loss_terms
from training.train import checkpoint_path, evaluate, train_or_load


@pytest.mark.parametrize("variational", [False, True])
def test_shapes(variational):
    model = Autoencoder(ModelArgs(variational=variational))
    x = torch.rand(5, 1, IMAGE_SIZE, IMAGE_SIZE)
    mu, logvar = model.encode(x)
    assert mu.shape == (5, LATENT_DIM)
    assert (logvar is None) != variational
    if variational:
        assert logvar.shape == (5, LATENT_DIM)
    out = model.decode(mu)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1


def test_kl_closed_form_matches_monte_carlo():
    torch.manual_seed(0)
    mu, logvar = torch.randn(3, LATENT_DIM), torch.randn(3, LATENT_DIM) * 0.5
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((200_000,))                                   # (S, 3, D)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)       # (3,)
    assert torch.allclose(kl_divergence(mu, logvar), mc, rtol=0.02, atol=0.02)
    assert torch.allclose(kl_divergence(torch.zeros(1, 4), torch.zeros(1, 4)), torch.zeros(1))


def test_vae_samples_while_training_and_uses_mean_otherwise():
    torch.manual_seed(0)
    model = Autoencoder(ModelArgs(variational=True))
    x = torch.rand(4, 1, IMAGE_SIZE, IMAGE_SIZE)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])
    loss, recon, kl = loss_terms(model, x, beta=2.0)
    assert torch.isclose(loss, recon + 2.0 * kl) and kl > 0


def test_mnist_padding(mnist_dir):
    xtr, ytr, xte, yte = load_mnist(mnist_dir, train_limit=64, test_limit=32)
    assert xtr.shape == (64, 1, 32, 32) and xte.shape == (32, 1, 32, 32) and len(ytr) == 64
    assert xtr.min() == 0 and xtr.max() == 1
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert xtr[:, 0][:, border].abs().sum() == 0      # padding is zero
    assert xtr[:, 0, 2:30, 2:30].sum() > 0


def copy_archives(src, dst):
    dst.mkdir()
    for f in src.rglob("*.gz"):
        shutil.copy(f, dst / f.name)
    return dst


def test_corrupt_archive_one_line_error(mnist_dir, tmp_path):
    data = copy_archives(mnist_dir, tmp_path / "mnist")
    bad = data / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-10])
    before = sorted(p.name for p in data.iterdir())
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz.*corrupt"):
        load_mnist(data)
    proc = run_build("--data-dir", data, "--out", tmp_path / "dist", "--ckpt-dir",
                     tmp_path / "ckpt", "--cache-dir", tmp_path / "cache", *TINY, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: MNIST archive") and "corrupt" in errors[0]
    assert proc.stderr.strip().endswith(errors[0])                 # the last word is the fix
    assert sorted(p.name for p in data.iterdir()) == before    # nothing written next to the data
    assert not (tmp_path / "dist").exists()


def test_missing_archive_names_file_and_fix(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz not found.*--data-dir"):
        load_mnist(tmp_path / "empty")


def tiny_config(**kw) -> TrainConfig:
    return TrainConfig(model=ModelArgs(variational=True), epochs=1, train_limit=384,
                       test_limit=128, **kw)


def test_one_epoch_lowers_loss_and_checkpoint_is_reused(mnist_dir, tmp_path):
    cfg = tiny_config()
    xtr, _, xte, _ = load_mnist(mnist_dir, cfg.train_limit, cfg.test_limit)
    torch.manual_seed(cfg.seed)
    before = evaluate(Autoencoder(cfg.model), xte)["test_neg_elbo_784"]   # same init as training
    calls = []

    def data():
        calls.append(1)
        return xtr, xte

    model, metrics, trained = train_or_load(cfg, data, tmp_path, torch.device("cpu"), progress=False)
    assert trained and calls == [1]
    assert metrics["test_neg_elbo_784"] < before
    assert checkpoint_path(tmp_path, cfg).exists()
    # the same config is served from the checkpoint, without touching the data
    again, metrics2, trained2 = train_or_load(cfg, data, tmp_path, torch.device("cpu"), progress=False)
    assert not trained2 and calls == [1] and metrics2 == metrics
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_changed_config_is_not_served_from_old_checkpoint(mnist_dir, tmp_path):
    xtr, _, xte, _ = load_mnist(mnist_dir, 384, 128)
    first = tiny_config()
    train_or_load(first, lambda: (xtr, xte), tmp_path, torch.device("cpu"), progress=False)
    changed = tiny_config(beta=4.0)
    assert changed.digest() != first.digest()
    _, _, trained = train_or_load(changed, lambda: (xtr, xte), tmp_path, torch.device("cpu"),
                                  progress=False)
    assert trained
    # a checkpoint file whose stored config differs is retrained, never used
    path = checkpoint_path(tmp_path, changed)
    ckpt = torch.load(path, weights_only=True)
    ckpt["config_hash"] = first.digest()
    torch.save(ckpt, path)
    assert train_or_load(changed, lambda: (xtr, xte), tmp_path, torch.device("cpu"), progress=False)[2]


def test_unreadable_checkpoint_is_reported_and_retrained(mnist_dir, tmp_path):
    xtr, _, xte, _ = load_mnist(mnist_dir, 384, 128)
    cfg = tiny_config()
    checkpoint_path(tmp_path, cfg).write_bytes(b"not a checkpoint")
    said = []
    _, _, trained = train_or_load(cfg, lambda: (xtr, xte), tmp_path, torch.device("cpu"),
                                  log=said.append, progress=False)
    assert trained and any("cannot be loaded" in s for s in said)


def test_training_is_reproducible(mnist_dir):
    xtr, _, xte, _ = load_mnist(mnist_dir, 256, 64)
    from training.train import train
    runs = [train(tiny_config(), xtr, xte, torch.device("cpu"), progress=False)[1] for _ in range(2)]
    strip = lambda m: {k: v for k, v in m.items() if k != "train_seconds"}
    assert strip(runs[0]) == strip(runs[1])


def test_pca_matches_scikit_learn():
    rng = np.random.default_rng(1)
    codes = {"ae": rng.normal(size=(500, 4)) * [5, 2, 1, 0.1],
             "vae": rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))}
    labels = rng.integers(0, 10, 500)
    summary, blob = pca_projection(codes, labels)
    points, got_labels = dequantise_pca(summary, blob)
    step = (summary["extent"][1] - summary["extent"][0]) / (summary["levels"] - 1)
    order = np.random.default_rng(0).permutation(500)
    assert np.array_equal(got_labels, labels[order])
    for name, c in codes.items():
        expected = PCA(n_components=2).fit_transform(c)[order]
        assert np.abs(points[name] - expected).max() <= step / 2 + 1e-9
        assert summary[name]["explained_variance_ratio"] == pytest.approx(
            PCA(n_components=2).fit(c).explained_variance_ratio_, rel=1e-3)


def test_ood_inputs_are_framed_like_mnist():
    imgs = ood_images()
    assert set(imgs) == {"question-mark", "letter-a", "stickman"}
    for label, img in imgs.values():
        assert img.shape == (32, 32) and img.dtype == np.uint8
        ys, xs = np.nonzero(img > 30)
        assert 16 <= ys.max() - ys.min() + 1 <= 21 and xs.max() - xs.min() + 1 <= 21
        w = img.astype(float)
        cy, cx = (w.sum(1) * np.arange(32)).sum() / w.sum(), (w.sum(0) * np.arange(32)).sum() / w.sum()
        assert abs(cy - 15.5) < 1.5 and abs(cx - 15.5) < 1.5
    assert not frame_like_mnist(np.zeros((50, 50))).any()
    assert frame_like_mnist(rasterise([[(0.5, 0.5), (0.5, 0.5)]])).any()


def test_tiny_build_writes_metrics_and_figure_data(tiny_build):
    site = tiny_build["out"]
    metrics = load_json(site / "metrics.json")
    for key in ("test_recon_bce_784", "test_mse", "train_seconds"):
        assert metrics["ae"][key] > 0
    for key in ("test_recon_bce_784", "test_kl", "test_neg_elbo_784", "test_mse", "train_seconds"):
        assert metrics["vae"][key] > 0
    assert metrics["vae"]["test_neg_elbo_784"] == pytest.approx(
        metrics["vae"]["test_recon_bce_784"] + metrics["vae"]["test_kl"], abs=1e-4)
    figs = load_json(site / "data" / "figures.json")
    assert figs["latent_dim"] == LATENT_DIM and figs["image_size"] == IMAGE_SIZE
    n = figs["pca"]["count"]
    assert n == 512 and (site / "data" / "pca.bin").stat().st_size == 2 * 2 * 2 * n + n
    for m in ("ae", "vae"):
        axes = figs["models"][m]["axes"]
        assert len(axes) == LATENT_DIM
        for ax in axes:
            lo, hi = ax["range"]
            assert lo < hi and len(ax["grid"]) == len(ax["density"])
            assert min(ax["density"]) >= 0
    names = {i["name"] for i in figs["inputs"]}
    assert {"question mark", "letter A", "stickman"} <= names
    assert {f"digit {d}" for d in range(10)} <= names
    for item in figs["inputs"]:
        assert len(item["codes"]["ae"]) == len(item["codes"]["vae"]) == LATENT_DIM
    assert len(list(tiny_build["ckpt"].glob("*.pt"))) == 2
