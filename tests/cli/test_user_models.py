"""A user model (file.py:factory) that raises or returns the wrong thing in forward: exit 2, one line, no file.

Before load_model checked a user model's forward pass, ``project`` and ``occlusion`` printed a traceback
(exit 1) for a model that raises, and wrote figures of nonsense for one returning a feature map or a tuple.
"""

import pytest

from deconvviz.cli import main

PHOTO = "resources/photos/coffee.png"
FORWARDS = {
    "raises": ("raise RuntimeError('boom')", "model raised RuntimeError: boom"),
    "feature_map": ("return self.conv(x)", "forward returned shape (1, 2, 14, 14); deconvviz needs class scores"),
    "tuple": ("return self.conv(x).mean((2, 3)), 1", "forward returned a tuple; deconvviz needs class scores"),
    # Passes the load-time check on the blank (all-zero) input, fails on a real image.
    "raises_on_images": ("assert not x.any(), 'only blank inputs'\n        return self.conv(x).mean((2, 3))",
                         "model raised AssertionError: only blank inputs"),
}
COMMANDS = {
    "project": ["--layer", "conv", "--channel", "0"],
    "occlusion": ["--patch", "4"],
}


def user_model(tmp_path, kind: str) -> str:
    """Return ``file.py:make`` for a 16-px greyscale model whose forward body is FORWARDS[kind]."""
    source = tmp_path / f"{kind}.py"
    source.write_text(
        "import torch\n"
        "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.conv = torch.nn.Conv2d(1, 2, 3)\n"
        f"    def forward(self, x):\n        {FORWARDS[kind][0]}\n"
        "def make():\n    return Net()\n")
    return f"{source}:make"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", FORWARDS)
def test_a_broken_user_model_exits_2_with_one_line(tmp_path, capsys, kind, command):
    model, out = user_model(tmp_path, kind), tmp_path / "out.png"
    argv = [command, "--model", model, "--image", PHOTO, *COMMANDS[command], "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"deconvviz: error: {model}: ")
    assert FORWARDS[kind][1] in err
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / f"{kind}.py"]


def test_a_working_user_model_still_runs(tmp_path, capsys):
    source = tmp_path / "ok.py"
    source.write_text(
        "import torch\n"
        "PREPROCESSING = {'size': [16, 16], 'mode': 'L', 'mean': [0.5], 'std': [0.5]}\n"
        "def make():\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())\n")
    out = tmp_path / "ok.png"
    assert main(["occlusion", "--model", f"{source}:make", "--image", PHOTO, "--patch", "4", "--out", str(out)]) == 0
    assert out.exists()
