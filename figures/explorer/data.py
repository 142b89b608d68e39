"""Figure: the latent explorer. Its shared data (axes, violins, inputs and their codes) is
the page's own (article/measure.py); what is the explorer's alone is the beta family: the
sweep's VAEs that differ from the main one only in beta, converted to TF.js with their axes
and their codes of the explorer's inputs, loaded by the page only when a reader picks a beta
(the build's "betas" stage)."""
from __future__ import annotations

from pathlib import Path


def betas(run, names: list[str], folder: Path) -> dict:
    """Writes the TF.js models of the VAEs `names` into `folder` and returns data/betas.json:
    their summaries, their codes of the explorer's inputs, and the probes of their files."""
    from article.measure import explorer_inputs, input_codes, model_summary, probes
    from training.config import TITLES, variant_label
    from training.export_tfjs import export_models
    chosen = {n: run.models[n] for n in names}
    beta = {n: run.configs[n].beta for n in names}
    export_models(chosen, None, folder)
    x_train, _, x_test, y_test = run.mnist
    return {"models": {n: {**model_summary(m, run.codes(n), variant_label(beta[n]),
                                           f"{TITLES['vae']}, β = {beta[n]:g}"), "beta": beta[n]}
                       for n, m in chosen.items()},
            "inputs": input_codes(chosen, explorer_inputs(x_test, y_test)),
            "probes": probes(chosen, None, x_test[:1], {n: variant_label(b) for n, b in beta.items()})}
