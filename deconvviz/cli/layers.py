"""``deconvviz layers``: print a model's layer tree."""

from __future__ import annotations

from ..session.recipes import LayersRecipe as RECIPE


def run(r: RECIPE) -> int:
    model = r.load_model()
    print(f"# {model.name}  weights: {model.weights}" + ("  (random weights)" if model.random_weights else ""))
    # "maps" is how every command reads the output: CxHxW, also for token layers (ViT: 197x768 is
    # 768 maps of 14x14 after the class token) and channels-last ones (Swin: 56x56x96 is 96 maps of 56x56).
    print(f"{'layer':<48} {'type':<26} {'output':<14} {'maps':<30} {'params':>10}")
    for row in model.layers():
        name = "  " * (row.depth - 1) + row.name
        shape = "x".join(str(s) for s in row.output_shape)
        maps = row.layout.describe() if row.spatial else ""
        print(f"{name:<48} {row.type_name:<26} {shape:<14} {maps:<30} {row.n_params:>10,}")
    return 0
