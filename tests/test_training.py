"""Models, losses, data loading, checkpoints and figure data, on tiny real data."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from conftest import TINY, load_json, run_build
from training import config as config_module
from training.config import IMAGE_SIZE, LATENT_DIM, ModelArgs, TrainConfig, source_digest
from training.data import load_mnist
from training.errors import UserError
from figures.map.data import dequantise_pca, pca_projection, spread
from training.checkpoints import load_checkpoint, save_checkpoint
from training.inputs import frame_like_mnist, ood_images, rasterise
from training.models import Autoencoder, kl_divergence, loss_terms
from training.pool import train_models
from training.train import evaluate, train


# the tests that train in the test process run in one worker, which sets up torch's optimisers once (3 s)
IN_PROCESS = pytest.mark.xdist_group("training")


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
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte.gz.*corrupt"):
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
    with pytest.raises(UserError, match="train-images-idx3-ubyte.gz not found.*--data-dir"):
        load_mnist(tmp_path / "empty")


def tiny_config(**kw) -> TrainConfig:
    return TrainConfig(model=ModelArgs(variational=True), epochs=1, train_limit=384,
                       test_limit=128, **kw)


def test_one_epoch_lowers_loss_and_checkpoint_is_reused(mnist_dir, tmp_path):
    cfg = tiny_config()
    _, _, xte, _ = load_mnist(mnist_dir, cfg.train_limit, cfg.test_limit)
    torch.manual_seed(cfg.seed)
    before = evaluate(Autoencoder(cfg.model), xte)["test_neg_elbo_784"]   # same init as training
    first = train_models({"one": cfg, "same": cfg}, mnist_dir, tmp_path, "cpu", progress=False)
    model, metrics, trained = first["one"]
    assert first["same"][1] is metrics                                  # one config, one run
    assert trained and metrics["test_neg_elbo_784"] < before
    assert (tmp_path / cfg.checkpoint_name()).exists()
    assert metrics["test_neg_elbo_784"] == pytest.approx(metrics["test_elbo_recon_784"] + metrics["test_kl"])
    # the same config is served from the checkpoint, rebuilt from its model args
    again, metrics2, trained2 = train_models({"one": cfg}, mnist_dir, tmp_path, "cpu", progress=False)["one"]
    assert not trained2 and metrics2 == metrics
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    # --retrain trains again, from the same seed to the same weights
    third, _, trained3 = train_models({"one": cfg}, mnist_dir, tmp_path, "cpu", retrain=True, progress=False)["one"]
    assert trained3 and all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                               third.state_dict().values()))


@IN_PROCESS
def test_changed_config_or_code_is_not_served_from_old_checkpoint(mnist_dir, tmp_path, monkeypatch):
    xtr, _, xte, _ = load_mnist(mnist_dir, 384, 128)
    first = tiny_config()
    model, metrics = train(first, xtr, xte, torch.device("cpu"), progress=False)
    save_checkpoint(model, metrics, first, tmp_path / first.checkpoint_name())
    changed = tiny_config(beta=4.0)
    assert changed.key() != first.key()
    assert load_checkpoint(tmp_path / changed.checkpoint_name(), changed) is None
    # a checkpoint file whose stored key differs is retrained, never used
    said = []
    (tmp_path / changed.checkpoint_name()).write_bytes((tmp_path / first.checkpoint_name()).read_bytes())
    assert load_checkpoint(tmp_path / changed.checkpoint_name(), changed, said.append) is None
    assert any("other settings or code" in s for s in said)
    # a change to the model code that keeps every tensor shape changes the key too
    copy = tmp_path / "repo"
    shutil.copytree(config_module.REPO / "training", copy / "training")
    monkeypatch.setattr(config_module, "REPO", copy)
    key = first.key()
    assert key == tiny_config().key()
    models = copy / "training" / "models.py"
    models.write_text(models.read_text().replace("BORDER_LOGIT = -100.0", "BORDER_LOGIT = -90.0"))
    assert first.key() != key
    (copy / "training" / "worker.py").unlink()
    with pytest.raises(FileNotFoundError, match="training/worker.py"):
        source_digest([config_module.TRAINING_ENTRY])


def test_unreadable_or_non_finite_checkpoint_is_reported_and_retrained(mnist_dir, tmp_path):
    cfg = tiny_config()
    path = tmp_path / cfg.checkpoint_name()
    path.write_bytes(b"not a checkpoint")
    said = []
    assert load_checkpoint(path, cfg, said.append) is None
    assert any("cannot be loaded" in s for s in said)
    model = Autoencoder(cfg.model)
    with torch.no_grad():
        model.decoder.net[0].weight[0, 0] = float("nan")
    save_checkpoint(model, {"test_neg_elbo_784": 1.0}, cfg, path)
    assert load_checkpoint(path, cfg, said.append) is None
    assert "non-finite" in said[-1]
    save_checkpoint(Autoencoder(cfg.model), {"test_neg_elbo_784": float("inf")}, cfg, path)
    assert load_checkpoint(path, cfg, said.append) is None
    _, _, trained = train_models({"one": cfg}, mnist_dir, tmp_path, "cpu", progress=False)["one"]
    assert trained and load_checkpoint(path, cfg) is not None


@IN_PROCESS
def test_diverging_training_stops_with_one_line_and_no_checkpoint(mnist_dir, tmp_path):
    cfg = tiny_config(lr=100.0, beta=1000.0)
    xtr, _, xte, _ = load_mnist(mnist_dir, 384, 128)
    with pytest.raises(UserError, match=r"VAE.* diverged in epoch 1 .*learning rate 100"):
        train(cfg, xtr, xte, torch.device("cpu"), progress=False)
    with pytest.raises(UserError, match=r"diverged in epoch 1") as err:
        train_models({"one": cfg}, mnist_dir, tmp_path, "cpu", progress=False)
    assert "\n" not in str(err.value)
    assert not list(tmp_path.iterdir())                          # no checkpoint, no temp file


@IN_PROCESS
def test_the_recipe_keeps_a_short_2d_vae_from_collapsing(mnist_dir):
    """A 2-D VAE trained briefly loses its rate (KL -> 0: the decoder ignores the code) unless
    the decoder starts from the mean digit, as the recipe has it."""
    xtr, _, xte, _ = load_mnist(mnist_dir, 5000, 1000)
    rates = {}
    for mean_start in (False, True):
        cfg = TrainConfig(model=ModelArgs(latent_dim=2, variational=True), epochs=3, mean_start=mean_start,
                          train_limit=5000, test_limit=1000)
        rates[mean_start] = train(cfg, xtr, xte, torch.device("cpu"), progress=False)[1]["test_kl"]
    assert rates[False] < 0.1, rates          # collapsed
    assert rates[True] > 1.0, rates           # the recipe keeps a rate


@IN_PROCESS
def test_training_is_reproducible(mnist_dir):
    xtr, _, xte, _ = load_mnist(mnist_dir, 256, 64)
    runs = [train(tiny_config(), xtr, xte, torch.device("cpu"), progress=False)[1] for _ in range(2)]
    strip = lambda m: {k: v for k, v in m.items() if k != "train_seconds"}
    assert strip(runs[0]) == strip(runs[1])


def test_the_linear_code_rebuilds_what_it_can_hold():
    """Digits that vary along 3 directions only are rebuilt exactly from 3 principal components
    (and from 4), and not from 2: the baseline Table 1 quotes is a real PCA, measured like test_mse."""
    from figures.map.data import linear_code
    rng = np.random.default_rng(0)
    basis = np.zeros((3, 1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for k in range(3):
        basis[k, 0, 4 + 6 * k:8 + 6 * k, 4:28] = 1           # three bars inside the central 28x28
    def images(n):
        return torch.from_numpy(0.5 * np.tensordot(rng.random((n, 3)), basis, 1).astype(np.float32))
    train, test = images(300), images(50)
    assert linear_code(train, test, 3)["test_mse"] < 1e-9 and linear_code(train, test, 4)["test_mse"] < 1e-9
    assert linear_code(train, test, 2)["test_mse"] > 1e-3


def test_pca_matches_scikit_learn():
    rng = np.random.default_rng(1)
    codes = {"ae": rng.normal(size=(500, 4)) * [5, 2, 1, 0.1],
             "vae": rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))}
    labels = rng.integers(0, 10, 500)
    per_model, summary, blob, neighbours = pca_projection(codes, labels, points=300)
    assert summary["count"] == 300 and summary["of"] == 500
    points, got_labels = dequantise_pca(summary, {m: {"pca": p} for m, p in per_model.items()}, blob)
    order = np.random.default_rng(0).permutation(500)[:300]
    assert np.array_equal(got_labels, labels[order])
    for name, c in codes.items():
        pca = PCA(n_components=2).fit(c)
        expected = pca.transform(c)[order]
        (x0, x1), (y0, y1) = per_model[name]["extent"]           # each model at its own scale
        step = max(x1 - x0, y1 - y0) / (summary["levels"] - 1)
        signs = np.sign((points[name] * expected).sum(0))       # a component's sign is arbitrary
        assert np.abs(points[name] - expected * signs).max() <= step / 2 + 1e-4
        assert per_model[name]["explained"] == pytest.approx(pca.explained_variance_ratio_, rel=1e-3)
        z = c[order[:5]]                                        # the page projects with mean and components
        mine = (z - np.array(per_model[name]["mean"])) @ np.array(per_model[name]["components"]).T
        assert np.abs(mine - pca.transform(z) * signs).max() < 1e-3
        centres = np.array(per_model[name]["centres"])          # where the view labels each digit: all its codes
        assert centres.shape == (10, 2)
        for d in range(10):
            assert np.abs(centres[d] - np.median(pca.transform(c)[labels == d], 0) * signs).max() < 1e-3
        assert 0 <= neighbours[name]["neighbours_2d"] <= 1 and 0 <= neighbours[name]["neighbours_4d"] <= 1


def test_spread_parts_close_labels_and_leaves_the_others():
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 0], [50, 50]], dtype=float)
    moved = spread(points, gap=15)
    apart = [np.linalg.norm(a - b) for i, a in enumerate(moved) for b in moved[i + 1:]]
    assert min(apart) > 14.9 and np.array_equal(moved[4], points[4])
    assert np.abs(moved[:4].mean(0) - points[:4].mean(0)).max() < 1e-9    # pushed apart, not away


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
        metrics["vae"]["test_elbo_recon_784"] + metrics["vae"]["test_kl"], abs=1e-4)
    figs = load_json(site / "data" / "figure-data.json")
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
    assert {f"digit {d}" for d in range(10)} <= {n.split(",")[0] for n in names}
    for item in figs["inputs"]:
        assert len(item["codes"]["ae"]) == len(item["codes"]["vae"]) == LATENT_DIM
    names = sorted(p.name.rsplit("-", 1)[0] for p in tiny_build["ckpt"].glob("*.pt"))
    assert names == ["ae", "ae-d2", "ae-s1", "ae-s2", "judge", "vae", "vae-b0.5", "vae-d2", "vae-s1", "vae-s2"]


def test_tiny_sweep_writes_every_key(tiny_build):
    """The tiny build's sweep: two latent sizes and one extra beta, every entry complete, and
    its main-pair entries equal to the main pair's own measurements."""
    metrics = load_json(tiny_build["out"] / "metrics.json")
    sweep = metrics["sweep"]
    assert sorted((e["model"], e["latent_dim"], e["beta"]) for e in sweep) == [
        ("ae", 2, None), ("ae", 4, None), ("vae", 2, 1.0), ("vae", 4, 0.5), ("vae", 4, 1.0)]
    for e in sweep:
        assert e["test_recon_bce_784"] > 0 and (e["test_kl"] is None) == (e["model"] == "ae")
        assert (e["active"] is None) == (e["model"] == "ae")
        if e["active"]:
            assert 0 <= e["active"]["units"] <= e["latent_dim"] and e["active"]["threshold"] > 0
            assert (e["active"]["idle_sigma"] is None) == (e["active"]["units"] == e["latent_dim"])
        for kind in ("prior", "fitted", "mixture"):
            assert set(e["sampling"][kind]) == {"recognisable", "class_entropy"}
            assert 0 <= e["sampling"][kind]["recognisable"] <= 1
        assert 0 < e["spread"]["sd"][0] <= e["spread"]["sd"][1] and e["spread"]["off"] >= 0
    for e in sweep:
        if e["latent_dim"] == LATENT_DIM and e["beta"] in (None, 1.0):
            assert e["test_recon_bce_784"] == metrics[e["model"]]["test_recon_bce_784"]
            # the spread the sweep reports is the one the main text quotes
            assert e["spread"]["sd"] == metrics["spread"][e["model"]]["sd"]
            assert e["spread"]["off"] == metrics["spread"][e["model"]]["off"]
            for kind in ("prior", "fitted", "mixture"):
                assert e["sampling"][kind]["recognisable"] == metrics["sampling"][f"{e['model']}_{kind}"]["recognisable"]
