"""The BMS model's front end read in arrays: each channel its own error, noise and faults."""

import dataclasses
import statistics

import numpy as np
import pytest

from drivers.sim.bms_calibration import FrontEndError
from drivers.sim.bms_model import (
    AFE_LSB_V,
    STATUS_AFTER_CLEAR,
    BmsModel,
    BmsReading,
    Dtc,
    dtc_status_after_test,
    temperature_groups,
)
from drivers.sim.clock import ManualTime
from drivers.sim.electrical import PackCircuit
from drivers.sim.pack import NTC_OPEN_C, Pack
from drivers.sim.packs import get_pack_spec


def quiet_error(cells: int, sensors: int, **noise: float) -> FrontEndError:
    """A front end with per-channel gain and offset but, unless given, no noise."""
    return FrontEndError(
        bus_gain=0.0,
        bus_offset_v=0.0,
        pack_gain=0.0,
        pack_offset_v=0.0,
        current_gain_discharge=0.0,
        current_gain_charge=0.0,
        current_offset_a=0.0,
        cell_gains=tuple(0.001 * (k % 3) for k in range(cells)),
        cell_offsets_v=tuple(0.0005 * (k % 5) for k in range(cells)),
        temperature_offsets_c=tuple(0.1 * j for j in range(sensors)),
        **{
            "bus_noise_v": 0.0,
            "pack_noise_v": 0.0,
            "current_noise_a": 0.0,
            "cell_noise_v": 0.0,
            "temperature_noise_c": 0.0,
            **noise,
        },
    )


def test_each_channel_reads_its_cell_through_its_own_gain_and_offset_quantised() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    sensors = len(temperature_groups(96))
    error = quiet_error(96, sensors)
    reading = BmsModel(pack, seed=3, error=error).measure()
    truth = pack.cell_voltages()
    for k, (got, true) in enumerate(zip(reading.cell_voltages_v, truth, strict=True)):
        raw = (1.0 + error.cell_gains[k]) * true + error.cell_offsets_v[k]
        assert got == pytest.approx(raw, abs=AFE_LSB_V / 2 + 1e-12), k
        assert round(got / AFE_LSB_V) * AFE_LSB_V == pytest.approx(got, abs=1e-12)
    assert not any(reading.cell_invalid)


def test_each_sensor_reads_the_mean_of_its_group_and_a_railed_ntc_marks_only_its_group() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    groups = temperature_groups(96)
    error = quiet_error(96, len(groups))
    model = BmsModel(pack, seed=3, error=error)
    pack.advance(600.0, 150.0)  # warm the blocks unevenly (R0 spread)
    pack.ntc_open(20)
    reading = model.measure()
    truth = pack.cell_temperatures()
    bad = next(j for j, group in enumerate(groups) if 20 in group)
    for j, group in enumerate(groups):
        if j == bad:
            assert reading.temperatures_c[j] == NTC_OPEN_C and reading.temperature_invalid[j]
            continue
        mean = statistics.fmean(truth[k] for k in group)
        assert reading.temperatures_c[j] == pytest.approx(mean + error.temperature_offsets_c[j])
        assert not reading.temperature_invalid[j]
    assert reading.flags.ntc


def test_the_reported_temperature_extremes_are_the_valid_sensors_else_every_sensor() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    model = BmsModel(pack, seed=3, error=quiet_error(96, len(temperature_groups(96))))
    pack.advance(600.0, 150.0)  # warm the blocks unevenly (R0 spread)
    reading = model.measure()
    assert reading.max_temperature_c == max(reading.temperatures_c)
    assert reading.min_temperature_c == min(reading.temperatures_c)
    pack.ntc_short(0)  # its group reads 150 °C, invalid: left out of the extremes
    reading = model.measure()
    temps, invalid = reading.temperatures_c, reading.temperature_invalid
    valid = [t for t, bad in zip(temps, invalid, strict=True) if not bad]
    assert len(valid) == len(reading.temperatures_c) - 1
    assert reading.max_temperature_c == max(valid) < 100.0
    assert reading.min_temperature_c == min(valid)
    for k in range(96):  # no valid sensor: the extremes of them all, as the frame carries
        pack.ntc_open(k)
    reading = model.measure()
    assert all(reading.temperature_invalid)
    assert reading.max_temperature_c == max(reading.temperatures_c) == 150.0
    assert reading.min_temperature_c == min(reading.temperatures_c) == NTC_OPEN_C


def test_an_open_sense_wire_of_one_cell_of_96_invalidates_it_and_its_neighbour_only() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    model = BmsModel(pack, seed=3)
    pack.sense_wire_open(57)
    reading = model.measure()
    # The open channel reads 0 V; its neighbour reads both cells, above the 5 V window.
    assert [k for k, bad in enumerate(reading.cell_invalid) if bad] == [57, 58]
    assert reading.cell_voltages_v[57] == pytest.approx(0.0, abs=0.002)
    assert reading.cell_voltages_v[58] == pytest.approx(2 * reading.cell_voltages_v[0], rel=0.05)
    assert reading.flags.sense_wire


def test_noise_is_drawn_per_channel_with_its_sigma_and_repeats_for_the_seed() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    sensors = len(temperature_groups(96))
    error = quiet_error(96, sensors, cell_noise_v=0.002)
    quiet = BmsModel(pack, seed=3, error=quiet_error(96, sensors)).measure()
    readings = [BmsModel(pack, seed=seed, error=error).measure() for seed in (3, 3, 4)]
    assert readings[0] == readings[1]
    assert readings[0].cell_voltages_v != readings[2].cell_voltages_v
    errors = [
        a - b for a, b in zip(readings[0].cell_voltages_v, quiet.cell_voltages_v, strict=True)
    ]
    assert 0.0015 < statistics.stdev(errors) < 0.0025
    assert abs(statistics.fmean(errors)) < 0.001


def test_each_measurement_takes_the_next_draws_of_the_stream_across_draw_blocks() -> None:
    # The BMS draws its noise for several measurements at once: measurement k must still
    # read the k-th slice of its seeded stream (one draw per channel, cells first, bus third
    # from last), as if it drew its own, so a seed keeps its readings.
    pack = Pack(get_pack_spec("lfp16s"))  # contactors open: the bus reads its noise alone
    sensors = len(temperature_groups(16))
    model = BmsModel(pack, seed=5, error=quiet_error(16, sensors, bus_noise_v=0.5))
    buses = [model.measure().bus_voltage_v for _ in range(40)]
    stream = np.random.default_rng(5 ^ 0x5EED)
    expected = [0.5 * stream.standard_normal(16 + sensors + 3)[-3] for _ in range(40)]
    assert buses == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_the_extremes_are_those_of_the_valid_cells_and_the_lowest_is_named() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    pack.weak_cell(12, 0.5)
    pack.advance(300.0, 100.0)  # the weak cell sags lowest
    pack.sense_wire_open(57)  # reads 0 V (and 58 the sum): both invalid, neither an extreme
    reading = BmsModel(pack, seed=3).measure()
    valid = [
        v for v, bad in zip(reading.cell_voltages_v, reading.cell_invalid, strict=True) if not bad
    ]
    assert reading.min_cell_index == 12
    assert reading.min_cell_v == min(valid) == reading.cell_voltages_v[12]
    assert reading.max_cell_v == max(valid) < 5.0


BETWEEN_MOVES = {
    "sense_wire_open": lambda pack, bms: pack.sense_wire_open(40),
    "ntc_open": lambda pack, bms: pack.ntc_open(17),
    "current_step": lambda pack, bms: pack.advance(0.0, 250.0),
    "loose_busbar": lambda pack, bms: pack.loose_busbar(5, 0.01),
    "calibration_out_of_range": lambda pack, bms: setattr(
        bms.faults, "calibration_out_of_range", True
    ),
    "ambient": lambda pack, bms: pack.set_ambient(-38.0),  # every NTC reads implausibly low
    "front_end_error": lambda pack, bms: setattr(bms, "error", FrontEndError.draw(77, 96, 12)),
}


@pytest.mark.parametrize("change", BETWEEN_MOVES)
def test_a_change_between_two_measurements_shows_in_the_next_reading(change: str) -> None:
    # The model and its pack keep what they computed for one state (the Thevenin sums, the
    # error's arrays, fault flags); the reading after a change must equal that of a twin
    # BMS whose pack had the change before its first reading (the same noise drawn).
    def bench() -> tuple[Pack, BmsModel]:
        pack = Pack(get_pack_spec("nmc96s"), seed=2)
        pack.advance(5.0, 20.0)
        return pack, BmsModel(pack, seed=9)

    warm_pack, warm = bench()
    twin_pack, twin = bench()
    before = warm.measure()
    BETWEEN_MOVES[change](warm_pack, warm)
    BETWEEN_MOVES[change](twin_pack, twin)
    twin.measure()  # the same draws as the warm BMS's first reading
    after = warm.measure()
    assert after == twin.measure()
    assert after != before
    # Each change shows in what it should move.
    if change == "sense_wire_open":
        assert after.cell_invalid[40] and after.flags.sense_wire
    elif change == "ntc_open":
        assert after.flags.ntc and any(after.temperature_invalid)
    elif change == "current_step":
        assert after.pack_current_a == pytest.approx(250.0, rel=0.03)
    elif change == "loose_busbar":
        assert after.pack_voltage_v == pytest.approx(before.pack_voltage_v - 20.0 * 0.01, abs=0.15)
    elif change == "calibration_out_of_range":
        assert after.bus_voltage_v > before.bus_voltage_v + 5.0  # its 6.5 V offset
    elif change == "ambient":
        assert all(after.temperature_invalid) and after.flags.ntc


def test_a_load_switched_between_two_clock_moves_shows_in_the_next_reading() -> None:
    # Through the circuit, as on the bench: the BMS syncs it, which advances the pack.
    time = ManualTime()
    pack = Pack(get_pack_spec("nmc96s"), seed=2)
    circuit = PackCircuit(pack, time)
    load = {"amps": 0.0}
    circuit.connect("load", lambda volts: -load["amps"])
    circuit.close_contactors_settled()
    bms = BmsModel(pack, seed=9, circuit=circuit)
    readings = []
    for amps in (0.0, 120.0, 120.0, 0.0):
        with circuit.locked():
            load["amps"] = amps
        time.advance(0.25)
        readings.append(bms.measure())
    currents = [r.pack_current_a for r in readings]
    assert currents == pytest.approx([0.0, 120.0, 120.0, 0.0], abs=2.0)
    idle_v, loaded_v = readings[0].pack_voltage_v, readings[1].pack_voltage_v
    assert loaded_v == pytest.approx(idle_v - 120.0 * pack.internal_resistance_ohm, abs=0.3)
    assert readings[3].pack_voltage_v > loaded_v + 1.0  # the I·R0 drop is gone at once


def test_a_measured_reading_is_the_dataclass_reading_of_its_fields() -> None:
    # measure() makes its reading without BmsReading.__init__ (which, frozen, is slow): it must
    # hold exactly the dataclass's fields, in order, and be the reading __init__ would make.
    pack = Pack(get_pack_spec("lfp16s"))
    pack.ntc_open(3)  # the reading's fault flags set, too
    reading = BmsModel(pack, seed=3).measure()
    assert list(vars(reading)) == [f.name for f in dataclasses.fields(BmsReading)]
    made = BmsReading(**vars(reading))
    assert made == reading and repr(made) == repr(reading) and hash(made) == hash(reading)
    assert reading.flags.ntc
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.soc_pct = 0.0  # type: ignore[misc]


def test_cells_and_sensors_each_take_their_own_draw_of_the_stream_across_draw_blocks() -> None:
    # The cells and the sensors are read in one array with one row of draws: cell k takes
    # draw k of the measurement's slice, sensor j draw cells + j, on both sides of a block.
    pack = Pack(get_pack_spec("nmc96s"))
    pack.advance(600.0, 150.0)  # uneven cells and blocks
    groups = temperature_groups(96)
    error = quiet_error(96, len(groups), cell_noise_v=0.01, temperature_noise_c=1.0)
    model = BmsModel(pack, seed=5, error=error)
    stream = np.random.default_rng(5 ^ 0x5EED)
    volts, temps = pack.cell_voltages(), pack.cell_temperatures()
    for _ in range(260):
        reading = model.measure()
        draws = stream.standard_normal(96 + len(groups) + 3)
        for k, got in enumerate(reading.cell_voltages_v):
            raw = (1.0 + error.cell_gains[k]) * volts[k] + error.cell_offsets_v[k]
            assert got == pytest.approx(raw + 0.01 * draws[k], abs=AFE_LSB_V), k
        for j, group in enumerate(groups):
            mean = statistics.fmean(temps[k] for k in group) + error.temperature_offsets_c[j]
            assert reading.temperatures_c[j] == pytest.approx(mean + draws[96 + j], abs=1e-9), j


def test_the_continuous_monitors_see_every_status_change_between_two_measurements() -> None:
    # A measurement skips rewriting the continuous monitors' statuses while its results and
    # the statuses are those it last wrote (a test's result applied twice is applied once);
    # whatever else changes a status must still reach the next measurement's monitors.
    pack = Pack(get_pack_spec("lfp16s"))
    model = BmsModel(pack, seed=3)
    continuous = [
        Dtc.HVIL_OPEN,
        Dtc.INSULATION_LOW,
        Dtc.SENSE_WIRE_OPEN,
        Dtc.NTC_FAULT,
        Dtc.CELL_OVER_VOLTAGE,
        Dtc.CELL_UNDER_VOLTAGE,
    ]
    passed = dtc_status_after_test(STATUS_AFTER_CLEAR, False)

    def statuses() -> list[int]:
        return [model.nvm.dtcs[code] for code in continuous]

    model.measure()
    model.measure()
    assert statuses() == [passed] * 6
    model.clear_dtcs(0xFFFFFF)  # a clear
    assert statuses() == [STATUS_AFTER_CLEAR] * 6
    model.measure()
    assert statuses() == [passed] * 6
    model.nvm.dtcs[Dtc.INSULATION_LOW] = 0x2F  # a status written elsewhere
    model.measure()
    assert model.nvm.dtcs[Dtc.INSULATION_LOW] == dtc_status_after_test(0x2F, False) == 0x2E
    pack.faults.hvil_open = True  # a result changed
    model.measure()
    failed = dtc_status_after_test(STATUS_AFTER_CLEAR, True)
    assert statuses() == [failed, 0x2E, passed, passed, passed, passed]
    model.nvm.dtcs = {}  # a replaced NVM: every status absent
    model.measure()
    assert statuses() == [failed] + [passed] * 5
    BmsModel(pack, seed=4, nvm=model.nvm).clear_dtcs(0xFFFFFF)  # a clear by a shared NVM
    model.measure()
    assert statuses() == [failed] + [passed] * 5
