"""Every recipe writes the argv that the real CLI parser reads back to an equal recipe."""

from __future__ import annotations

import shlex

import pytest

from deconvviz.cli import COMMANDS, parse_recipe
from deconvviz.errors import DeconvvizError
from deconvviz.session import recipes as R
from deconvviz.session.values import format_float, parse_float_list

M = {"model": "zf-fmnist"}
FULL = {"model": "path/to/my model.py:build", "weights": "w 1.safetensors", "device": "cuda:1"}

EXAMPLES = {
    R.LayersRecipe: [R.LayersRecipe(**M), R.LayersRecipe(**FULL)],
    R.ProjectRecipe: [
        R.ProjectRecipe(**M, image="a.png", layer="features.0", channel=0, out="p.png"),
        R.ProjectRecipe(**FULL, image="my photo.png", layer="features.6#1", channel=3, position=(2, 5),
                        mode="guided", out="out dir/p.png", npy="p.npy"),
        R.ProjectRecipe(**M, image="a.png", layer="l", channel=1, map=True, mode="backprop", out="p.png"),
        R.ProjectRecipe(**M, image="a.png", layer="l", channel=1, top_k=4, out="p.png"),
        R.ProjectRecipe(**M, image="my clip.mp4", frame=12, layer="l", channel=1, out="p.png"),
    ],
    R.MapsRecipe: [
        R.MapsRecipe(**M, image="a.png", layer="features.0", out="m.png"),
        R.MapsRecipe(**FULL, image="a.png", layer="features.0", sort="max", filters=True, out="m.png"),
        R.MapsRecipe(**M, image="clip.mp4", frame=0, layer="features.0", out="m.png"),
    ],
    R.OcclusionRecipe: [
        R.OcclusionRecipe(**M, image="a.png", out="o.png"),
        R.OcclusionRecipe(**M, image="clip.mp4", frame=7, patch=6, out="o.png"),
        R.OcclusionRecipe(**FULL, image="a.png", patch=6, stride=1, fill=0.25, target="Sneaker",
                          layer="features.8", out="o.png", npy="o.npy"),
        R.OcclusionRecipe(**M, image="a.png", fill=0.1 + 0.2, target="-1", out="o.png"),  # 0.30000000000000004
        R.OcclusionRecipe(**M, image="a.png", out="o.png", approximate=True),
        R.OcclusionRecipe(**M, image="a.png", out="o.png", approximate=True, field=0.7, coarse=3, drill=0.25),
    ],
    R.TopkRecipe: [
        R.TopkRecipe(**M, data="resources/fmnist", layer="features.0", out="top9"),
        R.TopkRecipe(**FULL, data="d", layer="features.4", channels=(0, 3, 5, 6, 7), k=4, all_positions=True,
                     batch_size=16, limit=50, out="out"),
    ],
    R.InvarianceRecipe: [
        R.InvarianceRecipe(**M, images=("a.png",), out="i.png"),
        R.InvarianceRecipe(**FULL, images=("a.png", "b c.png"), transform="rotate", amounts=(-10.0, 0.0, 12.5),
                           layers=("features.0", "classifier.4"), true_class=(3, 7), out="i.png", csv="i.csv"),
        R.InvarianceRecipe(**M, images=("a.png",), transform="scale", amounts=parse_float_list("0.5:1.5:7"),
                           out="i.png"),
        R.InvarianceRecipe(**M, images=("clip.mp4", "b.png"), frame=3, out="i.png"),
    ],
    R.CorrespondenceRecipe: [
        R.CorrespondenceRecipe(**M, images=("a.png", "b.png"), parts="p.json"),
        R.CorrespondenceRecipe(**M, images=("clip.mp4", "b.png"), frame=30, parts="p.json", out="t.png"),
        R.CorrespondenceRecipe(**FULL, images=("a.png", "b.png", "c.png"), parts="p.json",
                               layers=("features.14",), random=0, seed=3, csv="t.csv", out="t.png"),
    ],
    R.SaliencyRecipe: [
        R.SaliencyRecipe(**M, image="a.png", out="s.png"),
        R.SaliencyRecipe(**FULL, image="a.png", target=7, out="s.png", npy="s.npy"),
        R.SaliencyRecipe(**M, image="clip.mp4", frame=2, out="s.png"),
    ],
    R.ActmaxRecipe: [
        R.ActmaxRecipe(**M, class_index=3, out="a.png"),
        R.ActmaxRecipe(**FULL, layer="features.4", channel=2, start="mean", steps=8, step_size=0.125, l1=0.0,
                       l2=1e-05, seed=4, out="a.png"),
        R.ActmaxRecipe(**M, layer="l", channel=0, method="pixel", start="my photo.png", step_size=1 / 3,
                       out="a.png"),
        R.ActmaxRecipe(**M, layer="l", channel=0, size=64, out="a.png"),
    ],
    R.FeatvisRecipe: [
        R.FeatvisRecipe(**M, layer="l", channels=(0, 1, 2, 5, 7, 8), out="g.png"),
        R.FeatvisRecipe(**FULL, channels=(3,), objective="class", steps=16, size=64, diversity=3, seed=2, batch=4,
                        out="g.png", npy="g.npy"),
        R.FeatvisRecipe(**M, layer="l", channels=(4,), objective="neuron", position=(2, 3), out="g.png"),
    ],
    R.FiltersRecipe: [
        R.FiltersRecipe(**M, out="f.png"),
        R.FiltersRecipe(**FULL, compare="weights/epoch-001.safetensors", out="f.png"),
        R.FiltersRecipe(**M, compare_model="torchvision:alexnet", compare_weights="a.pth", out="f.png"),
    ],
    R.EvolutionRecipe: [
        R.EvolutionRecipe(history="runs/x", data="d", layer="features.0", channels=(1,), out="e.png"),
        R.EvolutionRecipe(history="runs/x y", data="d", layer="features.0", channels=(1, 3, 4), limit=50,
                          batch_size=8, patches=True, device="cuda", out="e.png"),
    ],
    R.SanityRecipe: [
        R.SanityRecipe(**M, image="a.png", csv="s.csv", out="s.png"),
        R.SanityRecipe(**FULL, image="a b.png", layer="features.8", channel=5, position=(2, 1),
                       methods=("guided", "saliency"), test="independent", seed=3, csv="s.csv", out="s.png"),
        R.SanityRecipe(**M, image="a.png", class_index="Sneaker", csv="s.csv", out="s.png"),
        R.SanityRecipe(**M, image="clip.mp4", frame=5, csv="s.csv", out="s.png"),
    ],
    R.FaithfulnessRecipe: [
        R.FaithfulnessRecipe(**M, image="a.png", csv="f.csv", out="f.png"),
        R.FaithfulnessRecipe(**M, image="clip.mp4", frame=1, csv="f.csv", out="f.png"),
        R.FaithfulnessRecipe(**FULL, image="a.png", target="7", maps=("saliency",), steps=10, random=1, seed=2,
                             patch=6, stride=2, csv="f.csv", out="f.png"),
    ],
    R.VideoRecipe: [
        R.VideoRecipe(**M, video="clip.mp4", csv="f.csv"),
        R.VideoRecipe(**FULL, video="my clip.mkv", csv="out/f.csv", every=5, layer="features.14#1", channel=3,
                      mode="guided", out="panels dir/p.mp4"),
    ],
    R.AttributeRecipe: [
        R.AttributeRecipe(**M, image="a.png", out="a.png"),
        R.AttributeRecipe(**FULL, image="my photo.png", method="integrated-gradients", target="7", steps=16,
                          baseline="blur", out="a.png", npy="a.npy"),
        R.AttributeRecipe(**M, image="clip.mp4", frame=2, method="smoothgrad", base="guided", samples=4,
                          noise=0.1, seed=1, out="s.png"),
    ],
    R.EvaluateRecipe: [
        R.EvaluateRecipe(**M),
        R.EvaluateRecipe(**FULL, data="d", split="train", batch_size=64, json=True),
    ],
}


def test_every_command_but_train_has_a_recipe_with_examples():
    assert {cls.command for cls in R.RECIPES} == set(COMMANDS) - {"train"}
    assert set(EXAMPLES) == set(R.RECIPES)


@pytest.mark.parametrize("recipe", [r for rs in EXAMPLES.values() for r in rs], ids=lambda r: r.shell()[10:60])
def test_argv_parses_back_to_the_same_recipe(recipe):
    argv = recipe.argv()
    assert argv[0] == recipe.command
    assert parse_recipe(argv) == recipe
    assert parse_recipe(shlex.split(recipe.shell())[1:]) == recipe  # the quoted line a PNG carries


def test_defaults_are_left_out_but_a_figures_parameters_are_written():
    assert R.MapsRecipe(**M, image="a.png", layer="l", out="m.png").argv() == \
        ["maps", "--model", "zf-fmnist", "--image", "a.png", "--layer", "l", "--out", "m.png"]
    assert R.TopkRecipe(**M, data="d", layer="l", out="o").argv()[-4:] == ["--k", "9", "--out", "o"]
    assert R.OcclusionRecipe(**M, image="a.png", target="-1", out="o.png").shell() == \
        "deconvviz occlusion --model zf-fmnist --image a.png --target=-1 --out o.png"


def test_the_parser_fills_in_defaults_and_rejects_bad_values():
    assert parse_recipe(["project", "--model", "m", "--image", "a", "--layer", "l", "--channel", "2",
                         "--out", "o"]) == R.ProjectRecipe(model="m", image="a", layer="l", channel=2, out="o")
    with pytest.raises(DeconvvizError, match="position must be ROW,COL"):
        parse_recipe(["project", "--model", "m", "--image", "a", "--layer", "l", "--channel", "2",
                      "--position", "a,b", "--out", "o"])
    with pytest.raises(SystemExit):  # argparse: --map and --top-k exclude each other
        parse_recipe(["project", "--model", "m", "--image", "a", "--layer", "l", "--channel", "2", "--map",
                      "--top-k", "3", "--out", "o"])


def test_every_command_taking_images_takes_the_frame_option_after_them():
    for cls in R.RECIPES:
        names = [f.name for f, _ in cls.options()]
        if "image" in names or "images" in names:
            assert names[names.index("frame") - 1] in ("image", "images"), cls.command
    assert R.SaliencyRecipe(**M, image="my clip.mp4", frame=12, out="s.png").shell() == \
        "deconvviz saliency --model zf-fmnist --image 'my clip.mp4' --frame 12 --out s.png"


@pytest.mark.parametrize("value", [0.05, 0.0, 1e-05, 1 / 3, 0.1 + 0.2, 123456789.0, -2.5])
def test_floats_are_written_short_and_exact(value):
    assert float(format_float(value)) == value
    assert len(format_float(0.05)) == 4
