import numpy as np
import pytest
import torch
from PIL import Image

from deconvviz.analyses.topk import topk_index
from deconvviz.data.sources import open_images
from deconvviz.engine._control import Cancelled
from deconvviz.engine.topk import merge
from deconvviz.errors import DeconvvizError
from deconvviz.models import load_model


@pytest.fixture(scope="module")
def fmnist_like(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for i in range(10):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8), "L").save(folder / f"{i:02d}.png")
    return open_images(folder)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return load_model("zf-fmnist")


def _same(a, b):
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in ("values", "image", "row", "col"))


def test_index_equals_a_full_sort_of_the_layer(model, fmnist_like):
    index = topk_index(model, fmnist_like, "features.6", [0, 5], k=4, batch_size=3, distinct=False)
    with torch.no_grad():
        x = torch.cat([model.preprocess(fmnist_like.image(i)) for i in range(10)])
        maps = model.net.features[:7](x).numpy()
    for c in (0, 5):
        flat = [(-maps[i, c, r, q], i, r, q) for i in range(10) for r in range(7) for q in range(7)]
        best = sorted(flat)[:4]
        got = index.entries(c)
        assert [(i, r, q) for _, i, r, q in best] == [e[:3] for e in got]
        np.testing.assert_allclose([-v for v, *_ in best], [e[3] for e in got], rtol=1e-5)


def test_shards_merge_to_the_single_process_index(model, fmnist_like):
    whole = topk_index(model, fmnist_like, "features.2", None, k=3, batch_size=2)
    parts = [topk_index(model, fmnist_like, "features.2", None, k=3, batch_size=2, rank=r, world=3) for r in range(3)]
    assert sum(p.n_images for p in parts) == 10
    assert _same(merge(parts), whole)


def test_cancel_saves_a_checkpoint_and_the_rerun_resumes(model, fmnist_like, tmp_path):
    ckpt = tmp_path / "ck.npz"
    calls = []
    with pytest.raises(Cancelled):
        topk_index(model, fmnist_like, "features.2", [1, 2], k=3, batch_size=2, checkpoint=ckpt,
                   cancel=lambda: calls.append(1) or len(calls) > 3)
    assert ckpt.is_file()
    seen = []
    resumed = topk_index(model, fmnist_like, "features.2", [1, 2], k=3, batch_size=2, checkpoint=ckpt,
                         progress=lambda d, t: seen.append(d))
    assert seen == [8, 10]  # three batches were done before the cancel
    assert _same(resumed, topk_index(model, fmnist_like, "features.2", [1, 2], k=3, batch_size=2))


def test_bad_layer_and_channels(model, fmnist_like):
    with pytest.raises(DeconvvizError, match="no spatial maps"):
        topk_index(model, fmnist_like, "classifier.0")
    with pytest.raises(DeconvvizError, match="out of range"):
        topk_index(model, fmnist_like, "features.2", [32])
