"""Data and training settings as undoable edits, and what each kind of edit does to what the
network has learned.

The policy lives here, not in a panel: changing the data (kind, noise, size, seed, CSV
columns, transforms) or the training seed means the learned weights describe something else,
so training starts afresh (`Effect.RESET`). Changing the learning rate, optimizer, its
settings, schedule, penalties, batch size or test cadence keeps the weights, optimizer
state and history and applies from the next step (`Effect.KEEP`). `TrainingController`
applies the same rule when the document signals the change; a command's `effect` (known
after `redo`) tells a view whether to pause Run and say so.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from bpviz.engine.optim import TrainingConfig
from bpviz.model.commands import Command
from bpviz.model.document import Document
from bpviz.model.effects import Effect

# training keys whose change restarts training: the seed draws the initial weights
RESET_TRAINING_KEYS = frozenset({"seed"})


def data_effect(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Effect:
    """Any change of the data (transforms included) restarts training."""
    return Effect.NONE if _same(old, new) else Effect.RESET


def training_effect(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Effect:
    """RESET when a setting in RESET_TRAINING_KEYS changes, KEEP for any other change.
    Settings are compared with their defaults filled in (absent lr == lr 0.1)."""
    a, b = TrainingConfig.from_dict(old).to_dict(), TrainingConfig.from_dict(new).to_dict()
    if a == b:
        return Effect.NONE
    return Effect.RESET if any(a[k] != b[k] for k in RESET_TRAINING_KEYS) else Effect.KEEP


def training_key_effect(key: str) -> Effect:
    """The effect of changing one training key, for a view that labels its controls."""
    return Effect.RESET if key in RESET_TRAINING_KEYS else Effect.KEEP


def _same(a: Any, b: Any) -> bool:
    return (a or None) == (b or None)


class _SettingsCommand(Command):
    """Replace a settings dict; records the old dict and, for a restarting edit, the learned
    state, so undo gives back exactly what was there (weights included)."""

    effect: Effect = Effect.NONE
    _old: dict[str, Any] | None = None
    _saved: tuple[dict[str, Any] | None, dict[str, Any] | None] | None = None

    def _new(self, doc: Document) -> dict[str, Any] | None:
        raise NotImplementedError

    def _current(self, doc: Document) -> dict[str, Any] | None:
        raise NotImplementedError

    def _effect(self, old: Any, new: Any) -> Effect:
        raise NotImplementedError

    def _set(self, doc: Document, value: dict[str, Any] | None, keep_state: bool) -> None:
        raise NotImplementedError

    def redo(self, doc: Document) -> None:
        old = copy.deepcopy(self._current(doc))
        new = self._new(doc)
        effect = self._effect(old, new)
        # a reset loses the file's block and the live learned state: both come back on undo
        saved = (copy.deepcopy(doc.state), doc.learned_state()) if effect is Effect.RESET else None
        self._set(doc, new, keep_state=effect is not Effect.RESET)
        self._old, self._saved, self.effect = old, saved, effect

    def undo(self, doc: Document) -> None:
        self._set(doc, self._old, keep_state=self.effect is not Effect.RESET)
        if self._saved is not None and self._saved != (None, None):
            doc.restore_state(*self._saved)


class SetData(_SettingsCommand):
    """Replace the whole `data` dict (None: no data); e.g. another dataset kind."""

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        base_dir: str | os.PathLike | None = None,
        text: str = "Change data",
    ) -> None:
        self.text = text
        self.data = copy.deepcopy(dict(data)) if data is not None else None
        self.base_dir = base_dir

    def _new(self, doc: Document) -> dict[str, Any] | None:
        return copy.deepcopy(self.data)

    def _current(self, doc: Document) -> dict[str, Any] | None:
        return doc.data

    def _effect(self, old: Any, new: Any) -> Effect:
        return data_effect(old, new)

    def _set(self, doc: Document, value: dict[str, Any] | None, keep_state: bool) -> None:
        doc.set_data(value, self.base_dir)


class SetDataValue(SetData):
    """Set one key of `data` (None removes it, so its default applies): noise, n, factor,
    test_fraction, transforms… The other keys stay as they are when the edit is done."""

    def __init__(self, key: str, value: Any, base_dir: str | os.PathLike | None = None) -> None:
        super().__init__(None, base_dir, text=f"Change data {key}")
        self.key, self.value = key, copy.deepcopy(value)

    def _new(self, doc: Document) -> dict[str, Any] | None:
        data = copy.deepcopy(doc.data or {})
        if self.value is None:
            data.pop(self.key, None)
        else:
            data[self.key] = copy.deepcopy(self.value)
        return data


class SetTraining(_SettingsCommand):
    """Replace the whole `training` dict (None: every default)."""

    def __init__(self, training: Mapping[str, Any] | None, text: str = "Change training") -> None:
        self.text = text
        self.training = copy.deepcopy(dict(training)) if training is not None else None

    def _new(self, doc: Document) -> dict[str, Any] | None:
        return copy.deepcopy(self.training)

    def _current(self, doc: Document) -> dict[str, Any] | None:
        return doc.training

    def _effect(self, old: Any, new: Any) -> Effect:
        return training_effect(old, new)

    def _set(self, doc: Document, value: dict[str, Any] | None, keep_state: bool) -> None:
        doc.set_training(value, keep_state=keep_state)


class SetTrainingValue(SetTraining):
    """Set one training key (lr, optimizer, batch_size, l2, schedule, …); None removes it,
    so its default applies."""

    def __init__(self, key: str, value: Any) -> None:
        super().__init__(None, text=f"Change {key.replace('_', ' ')}")
        self.key, self.value = key, copy.deepcopy(value)

    def _new(self, doc: Document) -> dict[str, Any] | None:
        training = copy.deepcopy(doc.training or {})
        if self.value is None:
            training.pop(self.key, None)
        else:
            training[self.key] = copy.deepcopy(self.value)
        return training
