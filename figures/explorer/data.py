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


def context(page: dict, stored: dict | None) -> dict:
    """The explorer states the prose's "Show me" buttons set (URL fragments, as state.js's
    toHash writes them), one per invitation: a digit to sweep, a code pushed past the end of
    its first axis, a walk between two digits of different classes, the stick figure."""
    data = page["data"]
    digits = [i for i in data["inputs"] if i["kind"] == "digit"]
    first = digits[0]
    other = next(i for i in digits if i["name"].split()[1] != first["name"].split()[1])
    stranger = next(i for i in data["inputs"] if i["kind"] == "ood" and "stick" in i["id"])
    model = data["model_order"][0]
    pushed = [data["models"][model]["axes"][0]["range"][1], *first["codes"][model][1:]]
    return {"show": {
        "axes": f"m={model}&in={first['id']}",
        "dice": f"m={model}",
        "edges": f"m={model}&z={','.join(map(str, pushed))}&in={first['id']}",
        "walk": f"m={model}&in={first['id']},{other['id']}&t=0.5",
        "strangers": f"m={model}&in={stranger['id']}",
        "draw": f"m={model}"}}
