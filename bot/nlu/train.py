"""Training the intent model and the risk classifier with scikit-learn, and shipping their
weights: `smart-coach train` (pip install -e '.[train]').

The only module that imports scikit-learn. The bot reads the weights it writes with numpy
alone (bot/nlu/intents.py: `Weights`, `Scorer`); it trains here at start-up only when the
examples changed since the shipped weights were made and scikit-learn is installed.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from bot.errors import DialogError, Problem
from bot.nlu.intents import (
    RECIPE,
    Features,
    Weights,
    fingerprint,
    training,
    weights_file,
    write_weights,
)


def pipeline(examples: tuple[str, ...], owners: tuple[str, ...]) -> Pipeline:
    """scikit-learn's pipeline, trained on the examples as RECIPE says."""
    features = make_union(*(TfidfVectorizer(analyzer=f["analyzer"],
                                            ngram_range=tuple(f["ngram_range"]),
                                            sublinear_tf=f["sublinear_tf"])
                            for f in RECIPE["features"]))
    model = make_pipeline(features, LogisticRegression(**RECIPE["classifier"]))
    model.fit(list(examples), list(owners))
    return model


def weights_of(model: Pipeline, examples: tuple[str, ...], owners: tuple[str, ...]) -> Weights:
    """The trained pipeline's arrays, which are all Scorer needs."""
    union, regression = model[0], model[-1]
    features = []
    for _, vectorizer in union.transformer_list:
        vocabulary = vectorizer.vocabulary_
        features.append(Features(vectorizer.analyzer, tuple(vectorizer.ngram_range),
                                 bool(vectorizer.sublinear_tf),
                                 tuple(sorted(vocabulary, key=vocabulary.__getitem__)),
                                 np.asarray(vectorizer.idf_, dtype=np.float64)))
    return Weights(fingerprint(examples, owners), tuple(features),
                   np.asarray(regression.coef_, dtype=np.float64),
                   np.asarray(regression.intercept_, dtype=np.float64),
                   tuple(str(c) for c in regression.classes_))


def fit(examples: tuple[str, ...], owners: tuple[str, ...]) -> Weights:
    return weights_of(pipeline(examples, owners), examples, owners)


def train_dialogs(folder: Path, language: str = "en") -> tuple[Path, list[Weights], float]:
    """Train every model the folder's understanding needs (the intents, the risk classifier
    with the intent examples as counter-examples) and write their weights beside the intents
    file. The weights file, the models, the seconds it took."""
    from bot.nlu.load import load_understanding  # it trains through this module

    intents = folder / "intents" / f"{language}.yaml"
    if not intents.is_file():
        raise DialogError([Problem(str(intents), 1, "no intents file: nothing to train")])
    started = time.perf_counter()
    with training() as trained:
        _, problems = load_understanding(folder, language)
    if problems:
        raise DialogError(problems)
    path = weights_file(intents)
    write_weights(path, trained)
    return path, trained, time.perf_counter() - started
