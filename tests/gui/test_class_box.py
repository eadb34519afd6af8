"""The class-target box the analysis views share: its entries and the choice it keeps across models."""

from deconvviz.gui.analyses.base import TOP, ClassBox


def entries(box):
    return [(box.itemText(i), box.itemData(i)) for i in range(box.count())]


def test_the_box_lists_the_classes_and_keeps_the_choice_where_it_remains(qtbot):
    box = ClassBox()
    qtbot.addWidget(box)
    box.fill(("cat", "dog", "owl"), (("as the occlusion pane", "follow"),))
    assert entries(box) == [("as the occlusion pane", "follow"), (TOP, None), ("0: cat", 0), ("1: dog", 1),
                            ("2: owl", 2)]
    assert box.currentIndex() == 0  # the first fill chooses the first entry
    seen = []
    box.currentIndexChanged.connect(seen.append)
    box.setCurrentIndex(box.findData(2))
    seen.clear()
    box.fill(("a", "b", "c", "d"), (("as the occlusion pane", "follow"),))
    assert box.currentData() == 2 and box.currentText() == "2: c" and seen == []  # kept, without a signal
    box.fill(("a", "b"), (("as the occlusion pane", "follow"),))
    assert box.currentData() == "follow"  # class 2 is gone: the first entry
    box.setCurrentIndex(1)
    box.fill(("x", "y"), (("as the occlusion pane", "follow"),))
    assert box.currentText() == TOP and box.currentData() is None


def test_without_leading_entries_the_top_class_comes_first(qtbot):
    box = ClassBox()
    qtbot.addWidget(box)
    box.fill(("cat",))
    assert entries(box) == [(TOP, None), ("0: cat", 0)] and box.currentIndex() == 0
