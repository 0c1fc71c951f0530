"""Pack model: conservation, determinism, electrical and thermal dynamics, faults, contactors."""

import dataclasses
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.sim.ocv import HYSTERESIS_SOC_WIDTH, LFP_OCV, NMC_OCV, hysteresis_step
from drivers.sim.pack import (
    ARRHENIUS_EA_OVER_R_K,
    NTC_OPEN_C,
    NTC_SHORT_C,
    Pack,
    PackSpec,
)
from drivers.sim.packs import PACK_NAMES, get_pack_spec


def mini_spec(**changes: object) -> PackSpec:
    """A 4S2P cut of the NMC example pack: same cells, fast to simulate."""
    base = dataclasses.replace(get_pack_spec("nmc96s"), name="mini", series=4)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


ISOTHERMAL_HA = 1e9  # W/K: heat leaves at once, so R0 stays at its 25 °C value

# --- conservation ---------------------------------------------------------------------------

profiles = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=150.0, allow_nan=False),
        st.floats(min_value=-150.0, max_value=150.0, allow_nan=False),
    ),
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(profile=profiles)
def test_charge_is_conserved_per_block_for_any_current_profile(
    profile: list[tuple[float, float]],
) -> None:
    pack = Pack(mini_spec())
    soc0 = pack.block_socs()
    for dt_s, current_a in profile:
        pack.advance(dt_s, current_a)
    throughput_ah = sum(abs(i) * dt for dt, i in profile) / 3600.0
    net_in_ah = pack.ah_charged - pack.ah_discharged
    for soc_start, soc_end, q_ah in zip(
        soc0, pack.block_socs(), pack.block_capacities_ah(), strict=True
    ):
        assert math.isclose(
            net_in_ah,
            (soc_end - soc_start) * q_ah,
            rel_tol=1e-9,
            # SOC is stored near 0.5, so a tiny ΔSOC carries its float resolution (~1e-16).
            abs_tol=1e-9 * throughput_ah + 1e-12 * q_ah,
        )
    assert pack.ah_charged >= 0.0 and pack.ah_discharged >= 0.0
    assert pack.ah_charged + pack.ah_discharged == pytest.approx(
        throughput_ah, rel=1e-12, abs=1e-15
    )


def ocv_integral_wh(pack: Pack, soc_from: list[float], soc_to: list[float]) -> float:
    """Return Σ_k Q_k·∫OCV dSOC from soc_from to soc_to (midpoint rule, fine grid)."""
    total, n = 0.0, 20_000
    for s0, s1, q_ah in zip(soc_from, soc_to, pack.block_capacities_ah(), strict=True):
        ds = (s1 - s0) / n
        total += q_ah * sum(NMC_OCV.voltage(s0 + (j + 0.5) * ds) for j in range(n)) * ds
    return total


def test_round_trip_energy_loss_equals_joule_heat() -> None:
    # No RC, no hysteresis (NMC), isothermal: everything lost is I²·R·t.
    pack = Pack(mini_spec(r1_ohm=0.0, r2_ohm=0.0, block_ha_w_per_k=ISOTHERMAL_HA))
    r_ohm = pack.internal_resistance_ohm
    current_a, dt_s = 60.0, 1200.0
    soc_start = pack.block_socs()
    pack.advance(dt_s, -current_a)
    soc_top = pack.block_socs()
    pack.advance(dt_s, current_a)
    joule_wh = current_a**2 * r_ohm * dt_s / 3600.0
    assert pack.wh_charged - pack.wh_discharged == pytest.approx(2 * joule_wh, rel=1e-6)
    stored_wh = ocv_integral_wh(pack, soc_start, soc_top)
    assert pack.wh_charged == pytest.approx(stored_wh + joule_wh, rel=1e-6)
    assert pack.wh_discharged == pytest.approx(stored_wh - joule_wh, rel=1e-6)


def test_lfp_hysteresis_adds_to_the_round_trip_loss_and_shifts_ocv() -> None:
    spec = dataclasses.replace(
        get_pack_spec("lfp16s"), r1_ohm=0.0, r2_ohm=0.0, block_ha_w_per_k=ISOTHERMAL_HA
    )
    down_up, up_down = Pack(spec), Pack(spec)
    for pack, sign in ((down_up, 1.0), (up_down, -1.0)):
        pack.advance(300.0, sign * 60.0)
        pack.advance(300.0, -sign * 60.0)
    assert down_up.soc == pytest.approx(up_down.soc, abs=1e-12)
    # Block ΔSOC ≈ 5 Ah / 100 Ah; the capacity spread moves it by < 1 %.
    s_du = hysteresis_step(hysteresis_step(0.0, -0.05), 0.05)
    s_ud = hysteresis_step(hysteresis_step(0.0, 0.05), -0.05)
    shift_v = 16 * LFP_OCV.hysteresis_v * (s_du - s_ud)
    assert down_up.open_circuit_voltage - up_down.open_circuit_voltage == pytest.approx(
        shift_v, rel=0.01
    )
    # Loss = Joule + h·∫s dQ around the loop, s(x) the closed-form hysteresis state.
    joule_wh = 60.0**2 * down_up.internal_resistance_ohm * 600.0 / 3600.0
    w, d = HYSTERESIS_SOC_WIDTH, 0.05
    decay = math.exp(-d / w)
    s_dis = -d + w * (1 - decay)  # ∫ s dSOC while discharging from s = 0
    s_chg = d + (decay - 2) * w * (1 - decay)  # … then charging from s = −1 + decay
    hysteresis_wh = 16 * LFP_OCV.hysteresis_v * 100.0 * (s_chg - s_dis)
    loss_wh = down_up.wh_charged - down_up.wh_discharged
    assert loss_wh == pytest.approx(joule_wh + hysteresis_wh, rel=0.002)


# --- determinism and spread -----------------------------------------------------------------


def test_same_seed_gives_identical_numbers() -> None:
    spec = get_pack_spec("nmc96s")
    a, b, c = Pack(spec), Pack(spec, seed=spec.seed), Pack(spec, seed=spec.seed)
    for pack in (a, b, c):
        pack.advance(120.0, 80.0)
    assert a.block_capacities_ah() == b.block_capacities_ah() == c.block_capacities_ah()
    assert a.cell_voltages() == b.cell_voltages() == c.cell_voltages()
    assert a.cell_temperatures() == b.cell_temperatures()
    assert a.wh_discharged == b.wh_discharged


def test_different_seed_gives_a_different_spread_of_the_configured_size() -> None:
    spec = get_pack_spec("nmc96s")
    a, b = Pack(spec, seed=1), Pack(spec, seed=2)
    assert a.block_capacities_ah() != b.block_capacities_ah()
    assert a.block_socs() != b.block_socs()
    caps = [q / spec.nominal_capacity_ah for q in a.block_capacities_ah()]
    assert 0.6 * spec.capacity_sigma < statistics.stdev(caps) < 1.5 * spec.capacity_sigma
    assert 0.6 * spec.soc_sigma < statistics.stdev(a.block_socs()) < 1.5 * spec.soc_sigma
    assert abs(statistics.mean(caps) - 1.0) < 3 * spec.capacity_sigma / math.sqrt(96)


def test_zero_sigma_gives_identical_blocks() -> None:
    pack = Pack(mini_spec(capacity_sigma=0.0, r0_sigma=0.0, soc_sigma=0.0))
    assert len(set(pack.block_capacities_ah())) == 1
    assert len(set(pack.cell_voltages())) == 1


# --- electrical dynamics --------------------------------------------------------------------


def test_current_step_drops_terminal_voltage_by_i_times_r0_at_once() -> None:
    pack = Pack(mini_spec())
    v_rest = pack.terminal_voltage()
    cells_rest = pack.cell_voltages()
    pack.advance(0.0, 100.0)
    assert pack.current_a == 100.0
    assert v_rest - pack.terminal_voltage() == pytest.approx(100.0 * pack.internal_resistance_ohm)
    assert pack.terminal_voltage(0.0) == pytest.approx(v_rest, abs=1e-12)
    r_blocks = pack.internal_resistance_ohm - pack.interconnect_ohm
    drops = [a - b for a, b in zip(cells_rest, pack.cell_voltages(), strict=True)]
    assert sum(drops) == pytest.approx(100.0 * r_blocks)
    assert pack.interconnect_ohm == pytest.approx(3 * 0.1e-3)


def test_rc_voltage_rises_and_relaxes_with_tau() -> None:
    spec = mini_spec(r2_ohm=0.0, block_ha_w_per_k=ISOTHERMAL_HA)
    pack = Pack(spec)
    i_a, tau = 60.0, spec.tau1_s
    final_v = i_a * spec.r1_ohm / spec.parallel * spec.series

    def polarisation() -> float:
        i = pack.current_a
        return (
            pack.open_circuit_voltage - pack.terminal_voltage() - i * pack.internal_resistance_ohm
        )

    pack.advance(tau, i_a)
    assert polarisation() == pytest.approx((1 - math.exp(-1)) * final_v, rel=1e-9)
    u_at_tau = polarisation()
    pack.advance(tau, 0.0)
    assert polarisation() == pytest.approx(math.exp(-1) * u_at_tau, rel=1e-9)


def test_long_steps_equal_many_short_steps() -> None:
    one, many = Pack(mini_spec()), Pack(mini_spec())
    one.advance(777.7, 90.0)
    for _ in range(7777):
        many.advance(0.1, 90.0)
    assert one.block_socs() == pytest.approx(many.block_socs(), rel=1e-12)
    assert one.rc_voltages()[0][0] == pytest.approx(many.rc_voltages()[0][0], rel=1e-9)
    assert one.rc_voltages()[0][1] == pytest.approx(many.rc_voltages()[0][1], rel=1e-9)
    assert one.cell_temperatures() == pytest.approx(many.cell_temperatures(), abs=0.01)


def test_two_rc_polarisation_settles_to_i_times_r1_plus_r2() -> None:
    spec = mini_spec(block_ha_w_per_k=ISOTHERMAL_HA)
    pack = Pack(spec)
    pack.advance(20 * spec.tau2_s, 1.0)
    u1, u2 = pack.rc_voltages()[0]
    assert u1 == pytest.approx(spec.r1_ohm / spec.parallel, rel=1e-6)
    assert u2 == pytest.approx(spec.r2_ohm / spec.parallel, rel=1e-6)


# --- thermal --------------------------------------------------------------------------------


def test_temperature_rises_under_load_and_relaxes_to_ambient() -> None:
    spec = mini_spec(block_mass_kg=0.1, r1_ohm=0.0, r2_ohm=0.0)  # τ_th = 100/0.6 ≈ 167 s
    tau_th = spec.block_mass_kg * spec.cp_j_per_kg_k / spec.block_ha_w_per_k
    pack = Pack(spec)
    pack.advance(3 * tau_th, 120.0)
    rise = [t - spec.ambient_c for t in pack.cell_temperatures()]
    assert all(r > 5.0 for r in rise)
    pack.advance(tau_th, 0.0)
    after = [t - spec.ambient_c for t in pack.cell_temperatures()]
    for r0, r1 in zip(rise, after, strict=True):
        assert r1 == pytest.approx(r0 * math.exp(-1), rel=1e-9)
    pack.advance(20 * tau_th, 0.0)
    assert pack.cell_temperatures() == pytest.approx([spec.ambient_c] * 4, abs=1e-6)


def test_steady_temperature_rise_is_joule_heat_over_h_a() -> None:
    spec = mini_spec(block_mass_kg=0.1, r1_ohm=0.0, r2_ohm=0.0)
    tau_th = spec.block_mass_kg * spec.cp_j_per_kg_k / spec.block_ha_w_per_k
    pack, current_a = Pack(spec), 120.0

    def block_r0() -> list[float]:
        # dt = 0 changes only the current: the cell-voltage difference is I·R0(T) per block.
        loaded = pack.cell_voltages()
        pack.advance(0.0, 0.0)
        rest = pack.cell_voltages()
        pack.advance(0.0, current_a)
        return [(a - b) / current_a for a, b in zip(rest, loaded, strict=True)]

    pack.advance(0.0, current_a)
    r0_cold = block_r0()
    pack.advance(40 * tau_th, current_a)
    r0_hot = block_r0()
    for t_c, hot, cold in zip(pack.cell_temperatures(), r0_hot, r0_cold, strict=True):
        rise = current_a**2 * hot / spec.block_ha_w_per_k
        assert t_c - spec.ambient_c == pytest.approx(rise, rel=1e-6)
        assert hot < 0.95 * cold  # warmer → lower R0 (Arrhenius)


def test_r0_follows_arrhenius() -> None:
    cold, warm = Pack(mini_spec(ambient_c=5.0)), Pack(mini_spec(ambient_c=25.0))
    ratio = math.exp(ARRHENIUS_EA_OVER_R_K * (1 / 278.15 - 1 / 298.15))
    r_cold = cold.internal_resistance_ohm - cold.interconnect_ohm
    r_warm = warm.internal_resistance_ohm - warm.interconnect_ohm
    assert r_cold / r_warm == pytest.approx(ratio, rel=1e-12)
    assert 1.5 < ratio < 2.0


# --- physical faults ------------------------------------------------------------------------


def test_weak_cell_reaches_low_soc_first_and_limits_capacity() -> None:
    pack = Pack(mini_spec())
    pack.weak_cell(2, 0.8)
    assert pack.capacity_ah == pack.block_capacities_ah()[2]
    while min(pack.block_socs()) > 0.05:
        pack.advance(60.0, 60.0)
    socs, volts = pack.block_socs(), pack.cell_voltages()
    assert socs.index(min(socs)) == 2
    assert volts.index(min(volts)) == 2
    assert sorted(socs)[1] > 0.1  # the healthy blocks still hold ~14 %


def test_high_resistance_cell_has_larger_drop() -> None:
    pack = Pack(mini_spec())
    rest = pack.cell_voltages()
    pack.high_resistance_cell(1, 3.0)
    pack.advance(0.0, 100.0)
    drops = [a - b for a, b in zip(rest, pack.cell_voltages(), strict=True)]
    others = [d for k, d in enumerate(drops) if k != 1]
    assert drops[1] > 2.5 * max(others)


def test_missing_parallel_cell_and_loose_busbar() -> None:
    pack = Pack(mini_spec(capacity_sigma=0.0, r0_sigma=0.0))
    r_before = pack.internal_resistance_ohm
    pack.missing_parallel_cell(3)
    assert pack.block_capacities_ah()[3] == pytest.approx(30.0)
    assert pack.capacity_ah == pytest.approx(30.0)
    r_block = 1.8e-3 / 2
    assert pack.internal_resistance_ohm - r_before == pytest.approx(r_block, rel=1e-9)
    pack.loose_busbar(0, 5e-3)
    assert pack.interconnect_ohm == pytest.approx(3 * 0.1e-3 + 5e-3)
    with pytest.raises(ValueError):
        Pack(get_pack_spec("lfp16s")).missing_parallel_cell(0)


# --- sensing faults -------------------------------------------------------------------------


def test_open_sense_wire_reads_zero_and_neighbour_reads_the_sum() -> None:
    pack = Pack(mini_spec())
    truth = pack.cell_voltages()
    pack.sense_wire_open(1)
    afe = pack.afe_cell_voltages()
    assert afe[1] == 0.0
    assert afe[2] == pytest.approx(truth[1] + truth[2])
    assert afe[0] == truth[0] and afe[3] == truth[3]
    assert pack.cell_voltages() == truth
    pack.sense_wire_open(3)  # top channel: its lower neighbour takes the sum
    afe = pack.afe_cell_voltages()
    assert afe[3] == 0.0
    assert afe[2] == pytest.approx(truth[1] + truth[2] + truth[3])
    assert sum(afe) == pytest.approx(sum(truth))


def test_ntc_faults_read_rails_and_leave_the_truth() -> None:
    pack = Pack(mini_spec())
    pack.ntc_open(0)
    pack.ntc_short(3)
    ntc = pack.ntc_temperatures()
    assert ntc[0] == NTC_OPEN_C == -40.0
    assert ntc[3] == NTC_SHORT_C == 150.0
    assert ntc[1:3] == pack.cell_temperatures()[1:3]
    assert pack.cell_temperatures() == [25.0] * 4
    with pytest.raises(IndexError):
        pack.ntc_open(4)


# --- contactors, precharge, HVIL ------------------------------------------------------------


def state(pack: Pack) -> str:
    """Read the contactor state (a call, so type checkers do not narrow it across steps)."""
    return pack.contactor_state


def close_and_wait(pack: Pack, step_s: float, limit_s: float) -> float:
    """Close the contactors and advance until closed; return the time it took."""
    pack.close_contactors()
    elapsed = 0.0
    while pack.contactor_state != "closed" and elapsed < limit_s:
        pack.advance(step_s, 0.0)
        elapsed += step_s
    return elapsed


def test_precharge_reaches_95_percent_at_three_tau_then_closes() -> None:
    spec = get_pack_spec("nmc96s")
    pack = Pack(spec)
    tau = spec.precharge_ohm * spec.bus_capacitance_f
    assert state(pack) == "open" and pack.bus_voltage == 0.0
    pack.close_contactors()
    assert state(pack) == "precharge"
    pack.advance(2.5 * tau, 0.0)
    assert state(pack) == "precharge"
    assert 0.85 * pack.terminal_voltage() < pack.bus_voltage < 0.95 * pack.terminal_voltage()
    elapsed = 2.5 * tau + close_and_wait(pack, tau / 1000, 10 * tau)
    # ≈ 3τ (ln 20 = 3.0); the 10 kΩ bleeder in parallel makes it exactly:
    divider = spec.bus_bleed_ohm / (spec.bus_bleed_ohm + spec.precharge_ohm)
    exact = tau * divider * math.log(1 / (1 - 0.95 / divider))
    assert elapsed == pytest.approx(exact, abs=tau / 1000)
    assert elapsed == pytest.approx(3 * tau, rel=0.05)
    assert pack.bus_voltage == pytest.approx(pack.terminal_voltage())
    assert pack.conducting


def test_opened_contactor_lets_the_bus_bleed_down() -> None:
    spec = get_pack_spec("lfp16s")
    pack = Pack(spec)
    close_and_wait(pack, 0.01, 1.0)
    pack.open_contactors()
    assert state(pack) == "open" and not pack.conducting
    pack.advance(5 * spec.bus_bleed_ohm * spec.bus_capacitance_f, 0.0)
    assert pack.bus_voltage < 0.01 * pack.terminal_voltage()


def test_welded_contactor_stays_closed() -> None:
    pack = Pack(get_pack_spec("lfp16s"))
    close_and_wait(pack, 0.01, 1.0)
    pack.faults.contactor_welded = True
    pack.open_contactors()
    pack.advance(60.0, 0.0)
    assert state(pack) == "closed"
    assert pack.bus_voltage == pytest.approx(pack.terminal_voltage())


def test_precharge_timeout_keeps_the_bus_low() -> None:
    spec = get_pack_spec("nmc96s")
    pack = Pack(spec)
    pack.faults.precharge_timeout = True
    waited_s = close_and_wait(pack, 0.05, 5.0)
    assert state(pack) == "precharge"
    assert pack.bus_voltage < 1.0
    assert pack.precharge_elapsed_s == pytest.approx(waited_s) and waited_s >= 5.0
    pack.open_contactors()
    assert state(pack) == "open"


def test_contactor_that_wont_close_stays_open() -> None:
    pack = Pack(get_pack_spec("lfp16s"))
    pack.faults.contactor_wont_close = True
    pack.close_contactors()
    pack.advance(1.0, 0.0)
    assert state(pack) == "open" and pack.bus_voltage == 0.0


def test_hvil_default_from_spec_and_fault() -> None:
    pack = Pack(get_pack_spec("lfp16s"))
    assert pack.hvil_closed
    pack.faults.hvil_open = True
    assert not pack.hvil_closed
    assert not Pack(dataclasses.replace(get_pack_spec("lfp16s"), hvil_closed=False)).hvil_closed


# --- named packs and validation -------------------------------------------------------------


def test_named_example_packs() -> None:
    assert PACK_NAMES == ("nmc96s", "lfp16s", "nmc14s")
    nmc, lfp = Pack(get_pack_spec("nmc96s")), Pack(get_pack_spec("lfp16s"))
    assert nmc.spec.nominal_capacity_ah == 60.0 and len(nmc.cell_voltages()) == 96
    assert 340.0 < nmc.open_circuit_voltage < 360.0
    assert lfp.spec.nominal_capacity_ah == 100.0 and len(lfp.cell_voltages()) == 16
    assert 51.0 < lfp.open_circuit_voltage < 54.0
    assert nmc.insulation.r_plus == nmc.spec.r_iso_plus_ohm
    with pytest.raises(ValueError, match="nmc96s, lfp16s, nmc14s"):
        get_pack_spec("nope")


def test_invalid_input_is_refused_not_clipped() -> None:
    pack = Pack(mini_spec())
    with pytest.raises(ValueError):
        pack.advance(-1.0, 10.0)
    with pytest.raises(ValueError):
        pack.advance(1.0, math.nan)
    with pytest.raises(ValueError):
        pack.weak_cell(0, 1.5)
    with pytest.raises(ValueError):
        pack.high_resistance_cell(0, 0.5)
    with pytest.raises(IndexError):
        pack.sense_wire_open(-1)
    with pytest.raises(ValueError, match="chemistry"):
        mini_spec(chemistry="LTO")
    with pytest.raises(ValueError, match="series"):
        mini_spec(series=0)


def test_a_bled_cell_reads_low_and_its_neighbours_high_through_the_shared_sense_wires() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    true = pack.cell_voltages()
    pack.set_bleeding({5})
    afe = pack.afe_cell_voltages()
    current = pack.bleed_currents()[5]
    r_wire = pack.spec.sense_wire_ohm
    assert current == pytest.approx(true[5] / (36.0 + 2 * r_wire))  # ~0.1 A
    assert afe[5] - true[5] == pytest.approx(-2 * r_wire * current)
    assert afe[4] - true[4] == pytest.approx(r_wire * current)
    assert afe[6] - true[6] == pytest.approx(r_wire * current)
    assert afe[7] == pytest.approx(true[7])
    assert pack.cell_voltages() == true  # the cells themselves do not move at once


def test_bleeding_drains_only_the_bled_cell() -> None:
    pack = Pack(get_pack_spec("lfp16s"))
    before = pack.block_socs()
    pack.set_bleeding({0, 15})
    pack.advance(3600.0, 0.0)
    after = pack.block_socs()
    drained = [b - a for b, a in zip(before, after, strict=True)]
    assert drained[0] == pytest.approx(0.09 / 100.0, rel=0.1)  # ~90 mA for 1 h of 100 Ah
    assert drained[15] == pytest.approx(drained[0], rel=0.05)
    assert max(abs(d) for d in drained[1:15]) < 1e-12
    with pytest.raises(IndexError):
        pack.set_bleeding({16})


# --- whole-pack faults and the virtual room ---------------------------------------------


def test_capacity_fade_scales_every_block_and_keeps_the_soc() -> None:
    pack = Pack(mini_spec())
    before, socs = pack.block_capacities_ah(), pack.block_socs()
    pack.capacity_fade(0.7)
    assert pack.block_capacities_ah() == pytest.approx([0.7 * q for q in before])
    assert pack.block_socs() == socs
    pack.advance(60.0, 42.0)  # 0.7 Ah
    assert statistics.mean(socs) - pack.soc == pytest.approx(0.7 / (0.7 * 60.0), rel=0.01)
    with pytest.raises(ValueError, match="fraction"):
        pack.capacity_fade(0.0)


def test_scale_resistance_scales_r0_and_busbars() -> None:
    pack = Pack(mini_spec())
    r = pack.internal_resistance_ohm
    pack.scale_resistance(1.25)
    assert pack.internal_resistance_ohm == pytest.approx(1.25 * r)
    with pytest.raises(ValueError, match="factor"):
        pack.scale_resistance(-1.0)


def test_set_ambient_moves_the_room_and_soaks_the_pack() -> None:
    pack = Pack(mini_spec())
    r25 = pack.internal_resistance_ohm
    pack.set_ambient(18.0)
    assert pack.cell_temperatures() == [18.0] * 4
    assert pack.internal_resistance_ohm > r25  # colder cells, higher R0
    pack.advance(3600.0, 0.0)
    assert pack.cell_temperatures() == pytest.approx([18.0] * 4)  # stays at the new room
    with pytest.raises(ValueError, match="ambient_c"):
        pack.set_ambient(200.0)


@pytest.mark.parametrize("change", ["weak_cell", "missing_parallel_cell", "capacity_fade"])
def test_a_block_changed_during_a_stretch_at_one_current_acts_at_the_next_step(
    change: str,
) -> None:
    # A stretch at constant current keeps the terms its sub-steps share (the SOC change, the
    # RC charge): a change of a block's capacity or RC resistance must reach the next one.
    pack = Pack(mini_spec(), seed=1)
    pack.advance(1.0, 20.0)
    if change == "weak_cell":
        pack.weak_cell(2, 0.5)
    elif change == "missing_parallel_cell":
        pack.missing_parallel_cell(2)
    else:
        pack.capacity_fade(0.8)
    socs, u_before = pack.block_socs(), pack.rc_voltages()
    pack.advance(1.0, 20.0)
    capacities = pack.block_capacities_ah()
    for k, (before, after) in enumerate(zip(socs, pack.block_socs(), strict=True)):
        assert after - before == pytest.approx(-20.0 / 3600.0 / capacities[k], rel=1e-9)
    if change == "missing_parallel_cell":
        spec = pack.spec
        decay = math.exp(-1.0 / spec.tau1_s)
        r1 = spec.r1_ohm / (spec.parallel - 1)
        expected = u_before[2][0] * decay + (1.0 - decay) * r1 * 20.0
        assert pack.rc_voltages()[2][0] == pytest.approx(expected, rel=1e-9)


def test_a_room_moved_during_a_stretch_at_one_current_is_the_one_the_pack_relaxes_to() -> None:
    pack = Pack(mini_spec())
    pack.advance(1.0, 0.0)
    pack.ambient_c = 40.0  # the room warmed (no soak): the pack follows it from now on
    pack.advance(10 * 3600.0, 0.0)
    assert pack.cell_temperatures() == pytest.approx([40.0] * 4)


CHANGES = {
    "high_resistance_cell": lambda p: p.high_resistance_cell(1, 3.0),
    "missing_parallel_cell": lambda p: p.missing_parallel_cell(2),
    "loose_busbar": lambda p: p.loose_busbar(0, 0.005),
    "scale_resistance": lambda p: p.scale_resistance(1.5),
    "set_ambient": lambda p: p.set_ambient(0.0),
    "advance": lambda p: p.advance(30.0, 20.0),
    "weak_cell": lambda p: p.weak_cell(3, 0.5),
    "capacity_fade": lambda p: p.capacity_fade(0.8),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_after_a_reading_reads_as_on_a_pack_that_had_it_all_along(change: str) -> None:
    # The pack keeps what it computed for its present state (R0(T), OCV, the Thevenin sums)
    # and its capacity; a reading taken before a change must not leak into those after it.
    spec = mini_spec(parallel=2)
    read, fresh = Pack(spec, seed=4), Pack(spec, seed=4)

    def readings(pack: Pack) -> tuple[object, ...]:
        return (
            pack.terminal_voltage(50.0),
            pack.terminal_voltage(0.0),
            pack.internal_resistance_ohm,
            pack.cell_voltages(),
            pack.capacity_ah,
            pack.soc,
        )

    before = readings(read)
    CHANGES[change](read)
    CHANGES[change](fresh)
    after = readings(read)
    assert after == readings(fresh)
    assert after != before


# --- the block arrays agree with the one-cell physics ---------------------------------------


@pytest.mark.parametrize("name", ["nmc96s", "lfp16s"])
def test_every_block_reads_its_own_ocv_at_its_own_soc(name: str) -> None:
    spec = dataclasses.replace(get_pack_spec(name), soc_sigma=0.6)  # SOCs beyond 0 and 1 too
    pack = Pack(spec)
    curve = NMC_OCV if spec.chemistry == "NMC" else LFP_OCV
    socs = pack.block_socs()
    assert min(socs) < 0.0 or max(socs) > 1.0
    expected = [curve.voltage(soc) for soc in socs]
    assert pack.cell_voltages() == pytest.approx(expected, abs=1e-12)
    assert pack.open_circuit_voltage == pytest.approx(sum(expected), abs=1e-9)


def test_each_lfp_block_follows_the_hysteresis_step_of_its_own_soc_change() -> None:
    spec = dataclasses.replace(get_pack_spec("lfp16s"), r1_ohm=0.0, r2_ohm=0.0)
    pack = Pack(spec)
    pack.weak_cell(3, 0.5)  # twice the SOC change, so a different hysteresis state
    before = pack.block_socs()
    pack.advance(0.5, 40.0)  # one sub-step
    after = pack.block_socs()
    states = [hysteresis_step(0.0, b - a) for a, b in zip(before, after, strict=True)]
    assert states[3] < states[0] < 0.0
    ocv = [LFP_OCV.voltage(soc, s) for soc, s in zip(after, states, strict=True)]
    pack.advance(0.0, 0.0)
    assert pack.cell_voltages() == pytest.approx(ocv, abs=1e-12)


def test_each_of_96_cells_drops_its_own_i_times_r0_at_a_current_step() -> None:
    pack = Pack(get_pack_spec("nmc96s"))
    pack.high_resistance_cell(41, 3.0)
    rest = pack.cell_voltages()
    pack.advance(0.0, 50.0)
    r0 = [(v_rest - v) / 50.0 for v_rest, v in zip(rest, pack.cell_voltages(), strict=True)]
    spec = get_pack_spec("nmc96s")
    nominal = spec.r0_ohm / spec.parallel
    assert all(0.8 * nominal < r < 1.2 * nominal for k, r in enumerate(r0) if k != 41)
    assert r0[41] == pytest.approx(3.0 * statistics.median(r0), rel=0.3)
    assert sum(r0) + pack.interconnect_ohm == pytest.approx(pack.internal_resistance_ohm)


def test_an_lfp_block_changed_during_a_stretch_follows_the_hysteresis_of_its_new_soc_step() -> None:
    # A stretch at constant current keeps its hysteresis terms (each block's direction and
    # relaxation) with its SOC change; a block's capacity change must reach both.
    spec = dataclasses.replace(get_pack_spec("lfp16s"), r1_ohm=0.0, r2_ohm=0.0)
    pack = Pack(spec)
    states = [0.0] * spec.series
    socs = pack.block_socs()
    for step in range(3):
        if step == 2:
            pack.weak_cell(3, 0.5)  # from now on block 3 moves twice as far per step
        pack.advance(0.5, 40.0)  # one sub-step
        after = pack.block_socs()
        steps = [b - a for a, b in zip(socs, after, strict=True)]
        states = [hysteresis_step(s, d) for s, d in zip(states, steps, strict=True)]
        socs = after
    assert steps[3] == pytest.approx(2.0 * steps[2], rel=0.2)  # spread ~2 %
    ocv = [LFP_OCV.voltage(soc, s) for soc, s in zip(socs, states, strict=True)]
    pack.advance(0.0, 0.0)
    assert pack.cell_voltages() == pytest.approx(ocv, abs=1e-12)


def test_a_bled_lfp_block_alone_moves_its_hysteresis_state() -> None:
    spec = dataclasses.replace(get_pack_spec("lfp16s"), r1_ohm=0.0, r2_ohm=0.0)
    pack = Pack(spec)
    pack.set_bleeding({2})
    before = pack.block_socs()
    pack.advance(1.0, 0.0)  # no current: only the bled block's SOC, and state, move
    after = pack.block_socs()
    states = [hysteresis_step(0.0, b - a) for a, b in zip(before, after, strict=True)]
    assert states[2] < 0.0
    assert states[:2] + states[3:] == [0.0] * (spec.series - 1)
    ocv = [LFP_OCV.voltage(soc, s) for soc, s in zip(after, states, strict=True)]
    pack.set_bleeding(set())
    assert pack.cell_voltages() == pytest.approx(ocv, abs=1e-12)


@pytest.mark.parametrize("name", ["nmc96s", "lfp16s"])
def test_the_ocv_interpolation_gives_np_interp_s_very_bits(name: str) -> None:
    # The pack calls the C function behind np.interp, skipping its Python wrapper.
    spec = dataclasses.replace(get_pack_spec(name), soc_sigma=0.6, r1_ohm=0.0, r2_ohm=0.0)
    pack = Pack(spec)
    points = LFP_OCV.points if spec.chemistry == "LFP" else NMC_OCV.points
    socs, volts = zip(*points, strict=True)
    assert pack.cell_voltages() == np.interp(pack.block_socs(), socs, volts).tolist()


@pytest.mark.parametrize("name", ["nmc96s", "lfp16s"])
def test_a_sub_step_moves_temperatures_and_rc_voltages_by_the_docstring_s_very_bits(
    name: str,
) -> None:
    # The pack decays its temperatures and both RC branches in one array, in place; each
    # value must come out as the module docstring's update worked on its own.
    pack = Pack(get_pack_spec(name), seed=5)
    pack.advance(40.0, 60.0)  # RC voltages and a temperature rise to start from
    spec, h, i = pack.spec, 0.5, 45.0
    temps, (u1, u2) = np.array(pack.cell_temperatures()), np.array(pack.rc_voltages()).T
    r0 = pack._values().r0.copy()  # R0(T) at the start of the step, as the pack holds it
    ha = spec.block_ha_w_per_k
    r1, r2 = spec.r1_ohm / spec.parallel, spec.r2_ohm / spec.parallel
    t_final = r0 * (i * i / ha) + u1 * u1 / (r1 * ha) + u2 * u2 / (r2 * ha) + spec.ambient_c
    thermal = math.exp(-h * ha / (spec.block_mass_kg * spec.cp_j_per_kg_k))
    rc1, rc2 = math.exp(-h / spec.tau1_s), math.exp(-h / spec.tau2_s)
    expected_t = (temps - t_final) * thermal + t_final
    expected_u1 = u1 * rc1 + (1.0 - rc1) * i * r1
    expected_u2 = u2 * rc2 + (1.0 - rc2) * i * r2
    pack.advance(h, i)
    assert pack.cell_temperatures() == expected_t.tolist()
    assert pack.rc_voltages() == list(zip(expected_u1.tolist(), expected_u2.tolist(), strict=True))


@pytest.mark.parametrize("name", ["nmc96s", "lfp16s"])
def test_the_pack_soc_is_the_mean_of_the_block_socs_summed_by_numpy(name: str) -> None:
    # The pack sums its SOCs in the reduction of its Thevenin rows (after a step), or copies
    # them into a new one (after a change to a block): either must give a plain sum's bits.
    pack = Pack(get_pack_spec(name), seed=6)

    def plain_mean() -> float:
        return float(np.add.reduce(np.array(pack.block_socs()))) / pack.spec.series

    assert pack.soc == plain_mean()
    pack.advance(7.3, 80.0)
    assert pack.soc == plain_mean()
    pack.set_bleeding({0, 3})
    pack.advance(2.0, -10.0)
    assert pack.soc == plain_mean()
    pack.high_resistance_cell(1, 2.0)  # the state's values made again from the arrays
    assert pack.soc == plain_mean()
