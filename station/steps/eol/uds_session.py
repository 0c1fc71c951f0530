"""Working in the BMS's extended diagnostic session, and always leaving it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drivers.bms.uds import UdsClient
from drivers.errors import BmsError
from station.steps.api import StepContext


@contextmanager
def extended_session(
    ctx: StepContext, uds: UdsClient, *, unlock: bool = False
) -> Iterator[UdsClient]:
    """Work in the BMS's extended session (unlocked if asked), then go back to default.

    Going back to the default session also relocks security access. Failing to get back is
    logged, not raised: it must not hide the step's own error.
    """
    uds.change_session("extended")
    try:
        if unlock:
            uds.unlock()
        yield uds
    finally:
        try:
            uds.change_session("default")
        except BmsError as err:
            ctx.log(f"could not return the BMS to the default session: {err}", "WARNING")
