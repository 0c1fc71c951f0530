"""The events the engine makes most of build by hand: they must stay frozen dataclasses."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from station.events import Progress, Sample


@pytest.mark.parametrize("cls", [Sample, Progress])
def test_the_hand_built_init_takes_the_fields_in_order_with_their_defaults(cls: type) -> None:
    params = list(inspect.signature(cls).parameters.values())
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == expected


@pytest.mark.parametrize(
    "event",
    [
        Sample("run", "step", 1.5, "pack_voltage_V", 350.25),
        Progress("run", "step", 0.5, 12.0, "SOC 50.0 %"),
        Progress("run", "step", 0.25),
    ],
)
def test_a_hand_built_event_is_a_frozen_dataclass_like_the_others(event: object) -> None:
    cls = type(event)
    values = dataclasses.astuple(event)
    assert cls(*values) == event
    assert hash(cls(*values)) == hash(event)
    assert dataclasses.replace(event) == event
    assert pickle.loads(pickle.dumps(event)) == event
    assert copy.deepcopy(event) == event
    assert repr(event).startswith(f"{cls.__name__}(")
    for name in (f.name for f in dataclasses.fields(cls)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(event, name, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.extra = 1
    assert Progress("r", "s", 0.1) == Progress(run_id="r", step_id="s", fraction=0.1, text="")
    assert Sample("r", "s", 1.0, "c", 2.0) != Sample("r", "s", 1.0, "c", 3.0)
