"""``deconvviz actmax``: regularised gradient ascent on a channel or a class score."""

from __future__ import annotations

from ..session.recipes import ActmaxRecipe as RECIPE


def run(r: RECIPE) -> int:
    from ..analyses.actmax import activation_maximisation, start_input
    from ..engine.actmax import Target
    from ..errors import DeconvvizError
    from ..figures.png import save_panel
    from ..figures.saliency import actmax_panel
    from ._args import progress_printer

    if (r.class_index is None) == (r.layer is None or r.channel is None):
        raise DeconvvizError("give either --class N, or --layer L with --channel C")
    target = Target(class_index=r.class_index) if r.class_index is not None else Target(r.layer, r.channel)
    model = r.load_model()
    ascent = activation_maximisation(model, target, r.start, r.steps, r.step_size, r.l1, r.l2, r.seed,
                                     progress_printer("steps"))
    start = start_input(model, r.start, r.seed)
    save_panel(actmax_panel(model, start, ascent, r.shell()), r.out)
    print(f"{target.describe()}: {ascent.values[0]:.4g} -> {ascent.values[-1]:.4g}; wrote {r.out}")
    return 0
