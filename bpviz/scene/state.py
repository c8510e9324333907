"""Saved learning (`state`): parameters and optimizer slots, checked against the graph and
restored so a reopened scene computes the saved model's numbers and trains on exactly as if it
had never been closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bpviz.engine.attrs import attr_problem
from bpviz.engine.ops import REGISTRY, AttrSpec
from bpviz.engine.session import Session
from bpviz.scene.errors import SceneError, describe, join_place
from bpviz.scene.schema import OptimizerStateModel, StateModel

_TENSOR = AttrSpec("tensor", optional=False)
SLOT_KEYS: dict[str, tuple[str, ...]] = {"sgd": (), "momentum": ("m",), "adam": ("m", "v")}
ALL_SLOT_KEYS = ("m", "v")

Arrays = dict[str, dict[str, Any]]


def _tensor(value: Any, place: tuple[Any, ...]) -> Any:
    """A saved array as float nested lists, so a value reads back the way it is written."""
    try:
        problem = attr_problem(_TENSOR, value)
        if problem is None:
            return np.array(value, dtype=np.float64).tolist()
    except (OverflowError, ValueError, TypeError, RecursionError):
        problem = f"not a usable array: {describe(value)}"
    raise SceneError(problem, join_place(place))


def _owner(node_id: str, ops: Mapping[str, str], place: tuple[Any, ...]) -> None:
    """Saved arrays must belong to a node whose op keeps parameters."""
    if node_id not in ops:
        raise SceneError(f"no node '{node_id}'", join_place(place))
    op = ops[node_id]
    if REGISTRY[op].param_shapes is None:
        raise SceneError(f"node '{node_id}' (op '{op}') has no parameters", join_place(place))


def normal_state(state: StateModel, ops: Mapping[str, str]) -> dict[str, Any]:
    """Check what can be checked without running the graph: owners, slot names, numbers."""
    params: Arrays = {}
    for node_id, arrays in state.params.items():
        _owner(node_id, ops, ("state", "params", node_id))
        params[node_id] = {
            name: _tensor(value, ("state", "params", node_id, name))
            for name, value in arrays.items()
        }
    opt = state.optimizer or OptimizerStateModel()
    slots: dict[str, Arrays] = {}
    for node_id, per_param in opt.slots.items():
        place = ("state", "optimizer", "slots", node_id)
        _owner(node_id, ops, place)
        slots[node_id] = {}
        for name, slot in per_param.items():
            for key in slot:
                if key not in ALL_SLOT_KEYS:
                    raise SceneError(
                        f"unknown slot (slots: {', '.join(ALL_SLOT_KEYS)})",
                        join_place((*place, name, key)),
                    )
            slots[node_id][name] = {k: _tensor(v, (*place, name, k)) for k, v in slot.items()}
    optimizer: dict[str, Any] = {"step": opt.step, "slots": slots}
    if opt.start:
        if opt.start > opt.step:
            raise SceneError(
                f"expected at most step ({opt.step}), got {opt.start}",
                join_place(("state", "optimizer", "start")),
            )
        optimizer["start"] = opt.start
    return {"params": params, "optimizer": optimizer}


def check_fits(
    fresh: Mapping[str, Mapping[str, np.ndarray]], state: Mapping[str, Any], optimizer: str
) -> None:
    """Saved arrays against the parameters a forward pass just created for the same graph.

    Nodes the pass could not reach (an unwired editing draft) are left to the executor, which
    raises ShapeError on the first pass that reaches them."""
    for node_id, arrays in state["params"].items():
        have = fresh.get(node_id)
        if have is None:
            continue
        place = ("state", "params", node_id)
        for name, value in arrays.items():
            _fits(node_id, name, have, value, (*place, name))
        for name in have:
            if name not in arrays:
                listed = ", ".join(have)
                raise SceneError(
                    f"missing parameter '{name}' (node '{node_id}' has: {listed})",
                    join_place(place),
                )
    needed = SLOT_KEYS[optimizer]
    for node_id, per_param in state["optimizer"]["slots"].items():
        have = fresh.get(node_id)
        if have is None:
            continue
        for name, slot in per_param.items():
            place = ("state", "optimizer", "slots", node_id, name)
            for key in needed:
                if key not in slot:
                    raise SceneError(
                        f"missing slot '{key}', which the {optimizer} optimizer keeps",
                        join_place(place),
                    )
            for key, value in slot.items():
                _fits(node_id, name, have, value, (*place, key))


def _fits(
    node_id: str, name: str, have: Mapping[str, np.ndarray], value: Any, place: tuple[Any, ...]
) -> None:
    if name not in have:
        listed = ", ".join(have)
        raise SceneError(
            f"node '{node_id}' has no parameter '{name}' (it has: {listed})", join_place(place)
        )
    shape, need = np.shape(value), have[name].shape
    if shape != need:
        raise SceneError(
            f"saved shape {shape} does not fit node '{node_id}', which needs {need}",
            join_place(place),
        )


def restore(session: Session, state: Mapping[str, Any]) -> None:
    """Load checked state into the session (the trainer resumes its minibatch order too)."""
    session.load_state_dict(state)
