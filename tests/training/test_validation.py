"""Training losses: the hard-negative term hears a false line and leaves the true shaft alone."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from usguide.training.validation import hard_negative_term, loss_terms  # noqa: E402


def maps(size: int = 32):
    """Logits at -6 everywhere (a silent map) and a shaft target along row 10, columns 4-27."""
    logits = torch.full((1, 2, size, size), -6.0)
    shaft = torch.zeros((1, size, size))
    shaft[0, 10, 4:28] = 1.0
    tip = torch.zeros((1, size, size))
    tip[0, 10, 4] = 1.0
    return logits, shaft, tip


def test_a_false_line_raises_the_hard_negative_term():
    logits, shaft, _ = maps()
    quiet = float(hard_negative_term(logits[:, 0], shaft))
    logits[0, 0, 25, 2:30] = 4.0  # a confident line far from the needle (a fascia)
    loud = float(hard_negative_term(logits[:, 0], shaft))
    assert quiet < 0.01
    assert loud > 3.0  # all 32 strongest pixels lie on it: softplus(4) = 4.02 for 28 of them


def test_the_shaft_and_its_margin_are_never_hard_negatives():
    logits, shaft, _ = maps()
    logits[0, 0, 8:13, 4:28] = 6.0  # the shaft, two pixels either side: inside the margin
    assert float(hard_negative_term(logits[:, 0], shaft)) < 0.01


def test_the_term_enters_the_loss_only_when_weighted():
    logits, shaft, tip = maps()
    logits[0, 0, 25, 2:30] = 4.0
    assert "hard" not in loss_terms(logits, shaft, tip)
    terms = loss_terms(logits, shaft, tip, hard_negative_weight=0.5)
    assert terms["hard"] == pytest.approx(0.5 * float(hard_negative_term(logits[:, 0], shaft)))
