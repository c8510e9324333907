"""Fixtures: a scalar chain with learned state, a small MLP, and a log of the chain's signals."""

from __future__ import annotations

import pytest

from bpviz.model import Document
from tests.model.helpers import SignalLog, chain_scene, mlp_scene


@pytest.fixture
def doc() -> Document:
    return Document.from_scene_dict(chain_scene())


@pytest.fixture
def mlp_doc() -> Document:
    return Document.from_scene_dict(mlp_scene())


@pytest.fixture
def log(doc: Document) -> SignalLog:
    return SignalLog(doc)
