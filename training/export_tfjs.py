"""Convert the PyTorch encoders and decoders to TensorFlow.js layers models.

`export_models({"ae": ae, "vae": vae}, judge, out_dir)` writes five folders, each a TF.js
layers model (model.json + one weight shard, each weight tensor stored as uint8):

    ae-encoder    [N, 32, 32, 1] pixels in [0, 1] (NHWC)  -> [N, 4] code
    vae-encoder   [N, 32, 32, 1] -> [N, 8]: the mean of q(z|x), then its log-variance
    ae-decoder, vae-decoder   [N, 4] code -> [N, 32, 32, 1] probabilities in [0, 1]
    judge         [N, 32, 32, 1] -> [N, 10] class probabilities

Decoders end in the sigmoid, the judge in the softmax. Each model is a Keras 2 (tf_keras) twin of
the PyTorch one with the weights copied over, checked against PyTorch before saving.
The weights must already be rounded to the uint8 grid the converter stores them on
(training does it), so that storing them loses nothing and TF.js computes what
PyTorch computes.
"""
from __future__ import annotations

import contextlib
import copy
import errno
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from .config import IMAGE_SIZE, MNIST_SIZE, PAD, WEIGHT_DTYPE
from .judge import Judge
from .models import SMALLEST, Autoencoder
from .quantise import affine_uint8

TOLERANCE = 1e-5  # max abs difference allowed between the twin and PyTorch


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().float().numpy()


def _dense_after_flatten(fc: torch.nn.Linear, side: int) -> list[np.ndarray]:
    """Kernel and bias of a Dense layer after a Flatten: PyTorch flattens CHW, Keras HWC."""
    w = fc.weight.reshape(fc.out_features, -1, side, side)          # (out, C, H, W)
    return [_np(w.permute(2, 3, 1, 0).reshape(-1, fc.out_features)), _np(fc.bias)]


def _encoder(keras, model: Autoencoder):
    """Conv2d(k3, s2, p1) -> ZeroPadding2D(1) + Conv2D 'valid' (TF's 'same' pads stride 2
    asymmetrically); the VAE's two heads are concatenated into one output."""
    enc, L = model.encoder, model.args.latent_dim
    x = inp = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    weights = []
    for i, conv in enumerate(enc.convs[::2], 1):
        x = keras.layers.ZeroPadding2D(1, name=f"pad{i}")(x)
        x = keras.layers.Conv2D(conv.out_channels, 3, strides=2, activation="relu", name=f"conv{i}")(x)
        weights.append((f"conv{i}", [_np(conv.weight.permute(2, 3, 1, 0)), _np(conv.bias)]))
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(enc.fc.out_features, activation="relu", name="fc")(x)
    weights.append(("fc", _dense_after_flatten(enc.fc, SMALLEST)))
    heads = [("mean" if model.args.variational else "code", enc.mean)]
    if model.args.variational:
        heads.append(("logvar", enc.logvar))
    outs = []
    for name, layer in heads:
        outs.append(keras.layers.Dense(L, name=name)(x))
        weights.append((name, [_np(layer.weight.T), _np(layer.bias)]))
    x = keras.layers.Concatenate(name="mean_logvar")(outs) if len(outs) > 1 else outs[0]
    return keras.Model(inp, x, name="encoder"), weights


def _judge(keras, judge: Judge):
    """Conv2d(k5, p2) -> Conv2D 'same' (symmetric at stride 1), MaxPool2d -> MaxPooling2D."""
    convs = [m for m in judge.net if isinstance(m, torch.nn.Conv2d)]
    fc1, fc2 = [m for m in judge.net if isinstance(m, torch.nn.Linear)]
    x = inp = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="image")
    weights = []
    for i, conv in enumerate(convs, 1):
        x = keras.layers.Conv2D(conv.out_channels, 5, padding="same", activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
        weights.append((f"conv{i}", [_np(conv.weight.permute(2, 3, 1, 0)), _np(conv.bias)]))
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(fc1.out_features, activation="relu", name="fc")(x)
    weights.append(("fc", _dense_after_flatten(fc1, IMAGE_SIZE // 4)))
    x = keras.layers.Dense(fc2.out_features, activation="softmax", name="classes")(x)
    weights.append(("classes", [_np(fc2.weight.T), _np(fc2.bias)]))
    return keras.Model(inp, x, name="judge"), weights


def _decoder(keras, model: Autoencoder):
    """Linear -> Dense (kernel W.T); the sigmoid goes before the zero border, which
    PyTorch writes as a very negative logit instead (sigmoid 0 in float32)."""
    layers = [m for m in model.decoder.net if isinstance(m, torch.nn.Linear)]
    x = inp = keras.Input((model.args.latent_dim,), name="code")
    weights = []
    for i, fc in enumerate(layers, 1):
        last = i == len(layers)
        name = "pixels" if last else f"fc{i}"
        x = keras.layers.Dense(fc.out_features, activation="sigmoid" if last else "relu", name=name)(x)
        weights.append((name, [_np(fc.weight.T), _np(fc.bias)]))
    x = keras.layers.Reshape((MNIST_SIZE, MNIST_SIZE, 1), name="reshape")(x)
    x = keras.layers.ZeroPadding2D(PAD, name="image")(x)
    return keras.Model(inp, x, name="decoder"), weights


def _on_grid(w: np.ndarray) -> bool:
    """True if storing `w` as the converter does changes it by at most float32 rounding."""
    return bool(np.abs(affine_uint8(w) - w).max() <= 1e-6 * (np.abs(w).max() + 1e-30))


def _check(name: str, twin, want: np.ndarray, x: np.ndarray) -> None:
    got = twin.predict(x, verbose=0)
    diff = float(np.abs(got - want).max())
    if not diff <= TOLERANCE:
        raise RuntimeError(f"TF.js export of {name}: Keras twin differs from PyTorch by {diff:.3g} "
                           f"(allowed {TOLERANCE:g}); the weight copy does not match the layers")


@contextlib.contextmanager
def _quiet():
    """Mute TF's import and C++ chatter (written straight to fds 1 and 2) and its warnings.
    Exceptions still propagate and are reported by the caller once the streams are back."""
    sys.stdout.flush(), sys.stderr.flush()
    saved, null = [os.dup(1), os.dup(2)], os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1), os.dup2(null, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush(), sys.stderr.flush()
        for fd, old in zip((1, 2), saved):
            os.dup2(old, fd), os.close(old)
        os.close(null)


def export_models(models: dict[str, Autoencoder], judge: Judge | None, out_dir: Path) -> None:
    """Write out_dir/{name}-encoder and out_dir/{name}-decoder for each model in `models`,
    and out_dir/judge unless `judge` is None."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # tensorflowjs imports tensorflow_decision_forests, whose welcome message needs IPython
    # whenever stdout is not a plain file (e.g. under pytest): switch it off.
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    with _quiet():
        import tensorflow as tf
        import tf_keras as keras
        import tensorflowjs as tfjs
        tf.get_logger().setLevel("ERROR")
        with contextlib.suppress(RuntimeError):  # float32 on the CPU: no TF32, no GPU memory grab
            tf.config.set_visible_devices([], "GPU")
        _export(keras, tfjs, models, judge, Path(out_dir))


def _export(keras, tfjs, models: dict[str, Autoencoder], judge: Judge | None, out_dir: Path) -> None:
    import tensorflow as tf
    # the reference outputs and the weights in float32 on the CPU (no TF32 on GPUs)
    models = {name: copy.deepcopy(model).cpu() for name, model in models.items()}
    judge = None if judge is None else copy.deepcopy(judge).cpu()
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(4, 1, IMAGE_SIZE, IMAGE_SIZE, generator=gen)
    jobs = []  # (folder name, twin builder, model, NHWC/flat input, PyTorch's output)
    for name, model in models.items():
        codes = 3 * torch.randn(8, model.args.latent_dim, generator=gen)
        with torch.no_grad():
            mu, logvar = model.encode(images)
            jobs += [(f"{name}-encoder", _encoder, model, images.permute(0, 2, 3, 1),
                      mu if logvar is None else torch.cat([mu, logvar], 1)),
                     (f"{name}-decoder", _decoder, model, codes, model.decode(codes).permute(0, 2, 3, 1))]
    if judge is not None:
        with torch.no_grad():
            jobs.append(("judge", _judge, judge, images.permute(0, 2, 3, 1), torch.softmax(judge(images), 1)))
    for folder, make, model, x, want in jobs:
        if not all(_on_grid(_np(p)) for p in model.parameters()):
            raise ValueError(f"{folder}: weights must be rounded to {WEIGHT_DTYPE} before export "
                             f"(training.quantise.round_weights), or the site would differ from PyTorch")
        twin, weights = make(keras, model)
        for layer, values in weights:
            twin.get_layer(layer).set_weights(values)
        _check(folder, twin, _np(want), _np(x))
        try:
            tfjs.converters.save_keras_model(twin, str(out_dir / folder), quantization_dtype_map={WEIGHT_DTYPE: True})
        except (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError) as e:
            # how tf.io.gfile reports a write that failed: a full disk, or a folder it may not write
            code = errno.ENOSPC if isinstance(e, tf.errors.ResourceExhaustedError) else errno.EACCES
            raise OSError(code, os.strerror(code), str(out_dir / folder)) from None
