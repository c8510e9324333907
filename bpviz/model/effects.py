"""What an edit does to what the network has learned; every command says it (`effect`).

The rule, decided here rather than in a panel: data, transforms and the seed make the
learned weights meaningless (RESET); graph edits redraw the parameters of the nodes they
touch (REDRAW); other training settings apply from the next step (KEEP); moving nodes
changes no number (NONE). A view pauses Run and tells the person when `restarts` is true.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class Effect(Enum):
    """What an edit does to learned state (weights, optimizer state, loss history)."""

    NONE = 0  # no number changes (e.g. moving a node)
    KEEP = 1  # applies from the next step; weights, optimizer state and history stay
    REDRAW = 2  # a graph edit: the edited nodes' parameters (and any that no longer fit)
    #             are drawn again, the others are kept
    RESET = 3  # data, transforms or seed: every parameter, the optimizer and the history
    #            start afresh

    @property
    def restarts(self) -> bool:
        """Whether learned numbers are lost, so Run should pause and the person be told."""
        return self in (Effect.REDRAW, Effect.RESET)

    @staticmethod
    def strongest(effects: Iterable[Effect]) -> Effect:
        """The effect of several edits done as one step."""
        return max(effects, key=lambda e: e.value, default=Effect.NONE)
