"""``deconvviz evaluate``: top-1 and top-5 accuracy of a model on a labelled data set."""

from __future__ import annotations

import json

from . import add_model_arguments


def add_parser(sub) -> None:
    parser = sub.add_parser("evaluate", help="print a model's top-1 and top-5 accuracy on a data set")
    add_model_arguments(parser)
    parser.add_argument("--data", help="IDX folder or image folder (default: Fashion-MNIST from the Debian "
                                       "package dataset-fashion-mnist)")
    parser.add_argument("--split", choices=("test", "train"), default="test", help="which split (default test)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..data.datasets import open_dataset
    from ..models import load_model
    from ..train.evaluate import evaluate_model

    model = load_model(args.model, args.weights, args.device, download=args.download)
    data = open_dataset(args.data, args.split, model.preprocessing.size, model.preprocessing.mode)
    result = evaluate_model(model, data, args.batch_size)
    result |= {"model": model.name, "weights": model.weights, "data": data.source, "split": args.split}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{model.name} ({model.weights}) on {result['images']:,} {args.split} images of {data.source}: "
              f"top-1 {result['top1']:.2%}, top-5 {result['top5']:.2%}, loss {result['loss']:.4f}")
    return 0
