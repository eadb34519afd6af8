"""A tiny Fashion-MNIST folder (from the bundled subset) and a fast training configuration."""

import numpy as np
import pytest
import torch

from deconvviz.data.datasets import bundled_subset
from deconvviz.data.idx import write_idx_gz
from deconvviz.train import TrainConfig


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """Return an IDX folder of 128 real Fashion-MNIST training images; its "test" split is the first 64 of them.

    Validating on seen images makes the loss a measure of fitting, which a few steps do lower.
    """
    folder = tmp_path_factory.mktemp("fashion-tiny")
    data = bundled_subset()
    x, y = data.images[:, 0].numpy(), data.labels.numpy().astype(np.uint8)
    write_idx_gz(folder / "train-images-idx3-ubyte.gz", x[:128])
    write_idx_gz(folder / "train-labels-idx1-ubyte.gz", y[:128])
    write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", x[:64])
    write_idx_gz(folder / "t10k-labels-idx1-ubyte.gz", y[:64])
    return folder


@pytest.fixture
def tiny_config(tiny_data, tmp_path):
    """Return a TrainConfig for 2 quick CPU epochs on tiny_data, writing to tmp_path/run."""
    return TrainConfig(data=str(tiny_data), out=str(tmp_path / "run"), epochs=2, batch_size=16, device="cpu",
                       quiet=True, workers=0, snapshots=(1, 2))


@pytest.fixture(autouse=True)
def _one_thread():
    # Two threads on a shared, busy 2-core machine spin-wait on each other: one is several times faster.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
