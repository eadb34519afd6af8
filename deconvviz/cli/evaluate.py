"""``deconvviz evaluate``: top-1 and top-5 accuracy of a model on a labelled data set."""

from __future__ import annotations

import json

from ..session.recipes import EvaluateRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..data.datasets import open_dataset
    from ..train.evaluate import evaluate_model

    model = r.load_model()
    data = open_dataset(r.data, r.split, model.preprocessing.size, model.preprocessing.mode)
    result = evaluate_model(model, data, r.batch_size)
    result |= {"model": model.name, "weights": model.weights, "data": data.source, "split": r.split}
    if r.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{model.name} ({model.weights}) on {result['images']:,} {r.split} images of {data.source}: "
              f"top-1 {result['top1']:.2%}, top-5 {result['top5']:.2%}, loss {result['loss']:.4f}")
    return 0
