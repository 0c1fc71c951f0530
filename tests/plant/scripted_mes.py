"""An MES plug-in that answers as the test tells it (``[mes] options = { answer = … }``)."""

from __future__ import annotations

import threading
from typing import Any

from station.mes import MesUnreachable, RouteAnswer, RunSummary

NEVER = threading.Event()


class ScriptedMes:
    def __init__(self, options: dict[str, Any]) -> None:
        self.answer = options["answer"]

    def route_check(self, serial: str, part_number: str, station_id: str) -> Any:
        match self.answer:
            case "passed":
                return RouteAnswer(True, "ok")
            case "failed":
                return RouteAnswer(False, "it failed leak test at LEAK-02")
            case "timeout":
                NEVER.wait(10)  # longer than any timeout_s the tests give
                return RouteAnswer(True, "too late")
            case "unreachable":
                raise MesUnreachable("connection refused")
            case "crash":
                raise KeyError("station")
            case _:
                return {"Result": "Passed"}  # malformed: not a RouteAnswer

    def upload(self, run: RunSummary) -> None:
        raise MesUnreachable("not used by these tests")
