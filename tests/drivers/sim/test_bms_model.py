"""The BMS model's front end read in arrays: each channel its own error, noise and faults."""

import statistics

import pytest

from drivers.sim.bms_calibration import FrontEndError
from drivers.sim.bms_model import AFE_LSB_V, BmsModel, temperature_groups
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
