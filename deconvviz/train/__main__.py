"""``python -m deconvviz.train``: the same as ``deconvviz train`` (and what torchrun launches)."""

import sys

from ..cli import main

sys.exit(main(["train", *sys.argv[1:]]))
