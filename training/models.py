"""The AE and the VAE: one convolutional encoder/decoder pair, two bottlenecks.

Both models share every layer shape; the VAE's encoder only has twice as many
outputs (mean and log-variance) and samples z with the reparameterisation trick
(Kingma & Welling 2014, arXiv:1312.6114). Decoders return logits; `decode` applies
the sigmoid so that outputs are pixel intensities in [0, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import IMAGE_SIZE, ModelArgs

SMALLEST = IMAGE_SIZE // 8  # three stride-2 stages: 32 -> 16 -> 8 -> 4


class Encoder(nn.Module):
    def __init__(self, args: ModelArgs, out_dim: int):
        super().__init__()
        c1, c2, c3 = args.channels
        self.convs = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),   # (B, c1, 16, 16)
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),  # (B, c2, 8, 8)
            nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.ReLU(),  # (B, c3, 4, 4)
        )
        self.fc = nn.Linear(c3 * SMALLEST * SMALLEST, args.hidden)
        self.out = nn.Linear(args.hidden, out_dim)

    def forward(self, x):                           # (B, 1, 32, 32)
        h = self.convs(x).flatten(1)                # (B, c3*16), CHW order
        return self.out(F.relu(self.fc(h)))         # (B, out_dim)


class Decoder(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        c1, c2, c3 = args.channels
        self.c3 = c3
        self.fc = nn.Linear(args.latent_dim, args.hidden)
        self.fc2 = nn.Linear(args.hidden, c3 * SMALLEST * SMALLEST)
        self.deconvs = nn.Sequential(
            nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1), nn.ReLU(),  # (B, c2, 8, 8)
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # (B, c1, 16, 16)
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),              # (B, 1, 32, 32)
        )

    def forward(self, z):                           # (B, latent_dim) -> logits (B, 1, 32, 32)
        h = F.relu(self.fc2(F.relu(self.fc(z))))
        return self.deconvs(h.view(-1, self.c3, SMALLEST, SMALLEST))


class Autoencoder(nn.Module):
    """AE when `args.variational` is False, VAE when True."""

    def __init__(self, args: ModelArgs):
        super().__init__()
        self.args = args
        k = 2 if args.variational else 1
        self.encoder = Encoder(args, k * args.latent_dim)
        self.decoder = Decoder(args)

    def encode(self, x):
        """(B, 1, 32, 32) -> (mu, logvar), each (B, latent_dim); logvar is None for the AE."""
        h = self.encoder(x)
        if not self.args.variational:
            return h, None
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    @staticmethod
    def reparameterize(mu, logvar):
        """z = mu + sigma * eps, eps ~ N(0, I): the noise sits outside the gradient path."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decode(self, z):
        """(B, latent_dim) -> pixel intensities (B, 1, 32, 32) in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        """Returns (logits, mu, logvar); z is sampled only for a VAE in training mode."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar) if (logvar is not None and self.training) else mu
        return self.decoder(z), mu, logvar


def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, closed form (Kingma & Welling
    2014, appendix B): -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2). Shape (B,)."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def recon_bce(logits, x):
    """Summed binary cross-entropy per image, shape (B,): -log p(x|z) for Bernoulli pixels."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def loss_terms(model: Autoencoder, x, beta: float = 1.0):
    """Mean over the batch of (loss, recon, kl); kl is zero for the AE."""
    logits, mu, logvar = model(x)
    recon = recon_bce(logits, x).mean()
    kl = kl_divergence(mu, logvar).mean() if logvar is not None else torch.zeros(())
    return recon + beta * kl, recon, kl
