"""The diagnostic's disagreement cells, against a count by hand."""
import numpy as np

from tools.diagnose import disagreement_cells, paired_difference


def test_disagreement_cells_count_by_hand():
    zs = np.array([1, 1, 0, 0, 1, 0, 1, 0], bool)
    ft = np.array([1, 0, 1, 0, 0, 1, 1, 0], bool)
    mid = np.array([1, 1, 0, 0, 0, 1, 1, 1], bool)
    c = disagreement_cells(zs, mid, ft)
    assert c["Z+F+"] == (2 / 8, 1.0)
    assert c["Z+F-"] == (2 / 8, 0.5)  # images 1 and 4: mid right on 1
    assert c["Z-F+"] == (2 / 8, 0.5)  # images 2 and 5: mid right on 5
    assert c["Z-F-"] == (2 / 8, 0.5)  # images 3 and 7: mid right on 7
    assert sum(v[0] for v in c.values()) == 1.0


def test_paired_difference_is_the_accuracy_difference():
    rng = np.random.default_rng(0)
    a, b = rng.random(500) < 0.7, rng.random(500) < 0.6
    d, lo, hi = paired_difference(a, b)
    assert abs(d - (a.mean() - b.mean())) < 1e-12 and lo < d < hi


def test_class_groups_split_each_set_by_the_listed_classes():
    import pytest
    from tools.diagnose import class_groups

    cls = np.array([0, 3, 7, 3, 1, 7])  # circle, star, arrow, star, square, arrow
    data = {"sketch": {"cls": cls}}
    x = np.zeros((6, 32, 32, 3), np.uint8)
    g = class_groups(data, {"sketch": x}, ["star", "arrow"])
    assert list(g) == ["sketch listed", "sketch others"]
    assert g["sketch listed"][2].tolist() == [False, True, True, True, False, True]
    assert g["sketch others"][2].tolist() == [True, False, False, False, True, False]
    with pytest.raises(SystemExit, match="pentagram"):
        class_groups(data, {"sketch": x}, ["pentagram"])
