"""The sanity figure's choice of columns."""

from deconvviz.figures.sanity import shown_steps


def test_few_steps_are_all_shown_many_are_subsampled_keeping_the_first_and_last():
    assert shown_steps(9) == list(range(9))
    cols = shown_steps(51)
    assert cols[0] == 0 and cols[1] == 1 and cols[-1] == 50 and len(cols) == 9
    assert cols == sorted(set(cols))
