"""Command-line options to TrainConfig."""

import argparse

import pytest

from deconvviz.train.config import PAPER_SNAPSHOTS, add_train_arguments, config_from_args


def _parse(*argv):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return config_from_args(parser.parse_args(list(argv)))


def test_defaults_follow_the_paper():
    c = _parse()
    assert (c.batch_size, c.lr, c.momentum, c.renorm, c.epochs) == (128, 0.01, 0.9, 0.1, 70)
    assert c.snapshots == PAPER_SNAPSHOTS and c.flip is None and c.out == "runs/zf-fmnist" and c.data is None


def test_switches_and_lists():
    c = _parse("--no-renorm", "--no-flip", "--snapshots", "5,1,5", "--model", "torchvision:resnet18", "--seed", "3")
    assert c.renorm is None and c.flip is False and c.snapshots == (1, 5) and c.seed == 3
    assert c.out == "runs/torchvision-resnet18"
    assert _parse("--flip", "--renorm", "0.2").flip is True
    with pytest.raises(SystemExit):
        _parse("--snapshots", "1,x")
