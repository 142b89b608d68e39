"""The AE and the VAE: one encoder/decoder pair, two bottlenecks.

Both models share every layer shape; the VAE's encoder only has twice as many
outputs (mean and log-variance) and samples z with the reparameterisation trick
(Kingma & Welling 2014, arXiv:1312.6114). Decoders return logits; `decode` applies
the sigmoid so that outputs are pixel intensities in [0, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import IMAGE_SIZE, MNIST_SIZE, PAD, ModelArgs

SMALLEST = IMAGE_SIZE // 8  # three stride-2 stages: 32 -> 16 -> 8 -> 4
BORDER_LOGIT = -100.0       # logit of the padding border: sigmoid gives 0 in float32


class Encoder(nn.Module):
    """Three strided convolutions and a dense layer, then one linear head for the code
    (the VAE's mean) and, for the VAE, a second one for the log-variance."""

    def __init__(self, args: ModelArgs):
        super().__init__()
        c1, c2, c3 = args.channels
        self.convs = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),   # (B, c1, 16, 16)
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),  # (B, c2, 8, 8)
            nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.ReLU(),  # (B, c3, 4, 4)
        )
        self.fc = nn.Linear(c3 * SMALLEST * SMALLEST, args.hidden)
        self.mean = nn.Linear(args.hidden, args.latent_dim)
        self.logvar = nn.Linear(args.hidden, args.latent_dim) if args.variational else None

    def forward(self, x):                           # (B, 1, 32, 32)
        h = self.convs(x).flatten(1)                # (B, c3*16), CHW order
        h = F.relu(self.fc(h))                      # (B, hidden)
        return self.mean(h), (self.logvar(h) if self.logvar is not None else None)


class Decoder(nn.Module):
    """A multilayer perceptron onto the central 28x28 pixels; the 2-pixel border of the
    32x32 output is fixed to (almost) zero intensity, as in every padded MNIST image.

    Dense layers, not transposed convolutions: in the browser's WebAssembly backend a
    dense decoder of this size runs several times faster than a convolutional one.
    """

    def __init__(self, args: ModelArgs):
        super().__init__()
        widths = (args.latent_dim, *args.decoder_hidden)
        layers = []
        for w_in, w_out in zip(widths, widths[1:]):
            layers += [nn.Linear(w_in, w_out), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(widths[-1], MNIST_SIZE * MNIST_SIZE))

    def digit(self, z):                             # (B, latent_dim) -> logits (B, 784)
        """Logits of the central 28x28 pixels, row by row: all that training needs."""
        return self.net(z)

    def forward(self, z):                           # (B, latent_dim) -> logits (B, 1, 32, 32)
        logits = self.digit(z).view(-1, 1, MNIST_SIZE, MNIST_SIZE)  # (B, 1, 28, 28)
        return F.pad(logits, (PAD,) * 4, value=BORDER_LOGIT)


class Autoencoder(nn.Module):
    """AE when `args.variational` is False, VAE when True."""

    def __init__(self, args: ModelArgs):
        super().__init__()
        self.args = args
        self.encoder = Encoder(args)
        self.decoder = Decoder(args)

    def encode(self, x):
        """(B, 1, 32, 32) -> (mu, logvar), each (B, latent_dim); logvar is None for the AE."""
        return self.encoder(x)

    @staticmethod
    def reparameterize(mu, logvar, eps=None):
        """z = mu + sigma * eps, eps ~ N(0, I): the noise sits outside the gradient path.
        `eps` may be given (e.g. drawn from a seeded generator); else it is drawn here."""
        if eps is None:
            eps = torch.randn_like(mu)
        return mu + eps * (0.5 * logvar).exp()

    def decode(self, z):
        """(B, latent_dim) -> pixel intensities (B, 1, 32, 32) in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        """Returns (logits of the digit's 28x28 pixels (B, 784), mu, logvar); z is sampled
        only for a VAE in training mode."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar) if (logvar is not None and self.training) else mu
        return self.decoder.digit(z), mu, logvar


def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, closed form (Kingma & Welling
    2014, appendix B): -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2). Shape (B,)."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def digit(x):
    """(B, 1, 32, 32) images -> (B, 784): the central 28x28 pixels, where the digit is."""
    return x[:, 0, PAD:-PAD, PAD:-PAD].flatten(1)


def recon_bce(logits, target):
    """Summed binary cross-entropy per image, shape (B,): -log p(x|z) for Bernoulli pixels;
    logits and target (B, 784), the digit's pixels."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)


def loss_terms(model: Autoencoder, x, beta: float = 1.0, target=None):
    """Mean over the batch of (loss, recon, kl); kl is zero for the AE. `target` is
    digit(x), when the caller has it already."""
    logits, mu, logvar = model(x)
    recon = recon_bce(logits, digit(x) if target is None else target).mean()
    kl = kl_divergence(mu, logvar).mean() if logvar is not None else torch.zeros(())
    return recon + beta * kl, recon, kl
