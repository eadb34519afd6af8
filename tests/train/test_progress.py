"""Progress output: a bar with ETA on a terminal, plain lines elsewhere, nothing when quiet."""

import io

from deconvviz.train.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_bar_and_plain_lines():
    tty = _Terminal()
    p = Progress(3, stream=tty, interval=0.0)
    p.start_epoch(1, 10)
    assert p.wants_update()
    p.step(5, 0.5)
    p.line("epoch 1/3: done")
    text = tty.getvalue()
    assert "epoch 1/3 [############------------] 5/10 loss 0.5000" in text and "ETA" in text and "(run 0:" in text
    assert text.endswith("\r\033[Kepoch 1/3: done\n")

    plain = io.StringIO()
    p = Progress(3, stream=plain, interval=0.0)
    p.start_epoch(1, 10)
    assert not p.wants_update()
    p.line("epoch 1/3: done")
    assert plain.getvalue() == "epoch 1/3: done\n"

    quiet = _Terminal()
    p = Progress(3, quiet=True, stream=quiet)
    p.start_epoch(1, 10)
    assert not p.wants_update()
    p.line("x")
    assert quiet.getvalue() == ""
