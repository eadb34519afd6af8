"""``deconvviz layers``: print a model's layer tree."""

from __future__ import annotations

from ..session.recipes import LayersRecipe as RECIPE


def run(r: RECIPE) -> int:
    model = r.load_model()
    print(f"# {model.name}  weights: {model.weights}")
    print(f"{'layer':<48} {'type':<26} {'output':<18} {'params':>10}")
    for row in model.layers():
        name = "  " * (row.depth - 1) + row.name
        shape = "x".join(str(s) for s in row.output_shape)
        print(f"{name:<48} {row.type_name:<26} {shape:<18} {row.n_params:>10,}")
    return 0
