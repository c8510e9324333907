"""The structure of a version-1 scene file: which keys exist and what type each value has.

Pydantic does the walking because its errors carry exact locations; this module only turns the
first one into a `SceneError` worded for a person editing JSON by hand. Meaning (references,
ports, shapes) is checked afterwards in `validate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Len
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bpviz.scene.codec import CURRENT_VERSION, FORMAT
from bpviz.scene.errors import SceneError, describe, join_place

_STRICT = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)

Tensor = Any  # number or nested list of numbers; checked in `state` and by the op's AttrSpec
Position = Annotated[list[float], Len(2, 2)]


class NodeModel(BaseModel):
    model_config = _STRICT

    id: str
    op: str
    inputs: dict[str, str] = Field(default_factory=dict)
    attrs: dict[str, Any] = Field(default_factory=dict)
    pos: Position | None = None  # none: bpviz lays the graph out when it is opened


class OptimizerStateModel(BaseModel):
    model_config = _STRICT

    step: Annotated[int, Field(ge=0)] = 0
    start: Annotated[int, Field(ge=0)] = 0  # step at which the optimizer kind last changed
    slots: dict[str, dict[str, dict[str, Tensor]]] = Field(default_factory=dict)


class StateModel(BaseModel):
    model_config = _STRICT

    params: dict[str, dict[str, Tensor]] = Field(default_factory=dict)
    optimizer: OptimizerStateModel | None = None


class SceneModel(BaseModel):
    model_config = _STRICT

    format: Literal["bpviz-scene"]
    version: Literal[1]
    name: str | None = None
    description: str | None = None
    output: str | None
    nodes: list[NodeModel]
    data: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    state: StateModel | None = None


assert FORMAT == "bpviz-scene" and CURRENT_VERSION == 1, "update SceneModel with the format"

# Which model's keys to list for an unknown key, by the place's shape (list indices as "*").
_MODELS_AT: dict[tuple[Any, ...], type[BaseModel]] = {
    (): SceneModel,
    ("nodes", "*"): NodeModel,
    ("state",): StateModel,
    ("state", "optimizer"): OptimizerStateModel,
}

_EXPECTED = {
    "string_type": "expected text",
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "list_type": "expected a list",
    "dict_type": "expected an object {...}",
    "model_type": "expected an object {...}",
    "model_attributes_type": "expected an object {...}",
    "bool_type": "expected true or false",
}


def _message(error: dict[str, Any], loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        shape = tuple("*" if isinstance(p, int) else p for p in loc[:-1])
        model = _MODELS_AT.get(shape)
        allowed = f" (allowed: {', '.join(model.model_fields)})" if model else ""
        return f"unknown key{allowed}"
    if loc and loc[-1] == "[key]":
        return f"keys must be text, got {describe(value)}"
    if kind in ("too_short", "too_long") and loc and loc[-1] == "pos":
        return f"expected [x, y], got {describe(value)}"
    if kind == "greater_than_equal":
        return f"expected an integer >= 0, got {describe(value)}"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {describe(value)}"
    msg = str(error.get("msg", kind))
    return f"{msg[:1].lower()}{msg[1:]}, got {describe(value)}"


def check_structure(raw: dict[str, Any]) -> SceneModel:
    """The file as typed models, or a SceneError for the first misplaced or mistyped value."""
    try:
        return SceneModel.model_validate(raw)
    except ValidationError as e:
        raise structure_error(e) from None


def structure_error(e: ValidationError, within: tuple[Any, ...] = ()) -> SceneError:
    """The SceneError for a validation's first error; `within`: the place of the value that
    was validated on its own (("nodes", 3) for one node checked as a NodeModel)."""
    error = e.errors(include_url=False)[0]
    loc = within + tuple(error["loc"])
    place = join_place(p for p in loc if p != "[key]")
    return SceneError(_message(error, loc), place)
