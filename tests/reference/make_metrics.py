"""make_metrics.py -- task metrics from scikit-learn and SciPy, for tests/fixtures/metrics/.

Writes tests/fixtures/metrics/expected.json with cases, each:
  {"name", "kind": "classes", "predicted": [int], "truth": [int], "classes": C,
   "mcc": sklearn.metrics.matthews_corrcoef, "accuracy": sklearn.metrics.accuracy_score}
  {"name", "kind": "scores", "x": [float], "y": [float],
   "pearson": scipy.stats.pearsonr(x, y).statistic, "spearman": scipy.stats.spearmanr(x, y).statistic}
The arrays are seeded (numpy default_rng(1337)) and include ties, a constant prediction (MCC 0 by
sklearn's convention) and a multi-class case (sklearn's R_K). ntk-lens's `stats` and
`train::Targets::quality` must agree to 1e-12 (both are f64 on the same inputs).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, matthews_corrcoef

# Not common.py: that one imports torch, which these metrics do not need.
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"


def save_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def classes_case(name, predicted, truth, classes):
    return {
        "name": name,
        "kind": "classes",
        "predicted": [int(v) for v in predicted],
        "truth": [int(v) for v in truth],
        "classes": int(classes),
        "mcc": float(matthews_corrcoef(truth, predicted)),
        "accuracy": float(accuracy_score(truth, predicted)),
    }


def scores_case(name, x, y):
    return {
        "name": name,
        "kind": "scores",
        "x": [float(v) for v in x],
        "y": [float(v) for v in y],
        "pearson": float(stats.pearsonr(x, y).statistic),
        "spearman": float(stats.spearmanr(x, y).statistic),
    }


def main():
    rng = np.random.default_rng(1337)
    truth2 = rng.integers(0, 2, 40)
    noisy2 = np.where(rng.random(40) < 0.3, 1 - truth2, truth2)
    truth3 = rng.integers(0, 3, 50)
    noisy3 = np.where(rng.random(50) < 0.4, rng.integers(0, 3, 50), truth3)
    x = rng.normal(size=30)
    y = 0.6 * x + rng.normal(scale=0.8, size=30)
    stsb = np.round(rng.uniform(0, 5, 25) * 5) / 5  # STS-B-like scores in steps of 0.2: ties
    out = np.round(stsb + rng.normal(scale=1.0, size=25), 1)  # rounded outputs: ties too
    cases = [
        classes_case("binary, 30% flipped", noisy2, truth2, 2),
        classes_case("three classes, 40% redrawn", noisy3, truth3, 3),
        classes_case("constant prediction", np.zeros(12, dtype=int), truth2[:12], 2),
        scores_case("linear with noise", x, y),
        scores_case("STS-B-like with ties", out, stsb),
    ]
    save_json(FIXTURES / "metrics" / "expected.json", {"cases": cases})
    for c in cases:
        keys = ("mcc", "accuracy") if c["kind"] == "classes" else ("pearson", "spearman")
        print(c["name"], {k: round(c[k], 6) for k in keys})


if __name__ == "__main__":
    main()
