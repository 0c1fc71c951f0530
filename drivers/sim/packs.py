"""What a pack is (:class:`PackSpec`), and named example packs for the virtual bench.

Values are realistic for the class of pack, not a datasheet [E]; the OCV curves are the
sourced ones of domain spec §6.1, R0 and the RC time constants are in the ranges of §6.2,
spreads §6.3, thermal §6.4, insulation and Y-capacitance §6.5, precharge §1 step 7.

* ``"nmc96s"`` — 96S2P of 30 Ah NMC pouch cells: 60 Ah, ~355 V nominal (96 × 3.7 V),
  ~21 kWh. Pack R0 ≈ 96 mΩ with busbars.
* ``"lfp16s"`` — 16S1P of 100 Ah LFP prismatic cells: 100 Ah, 51.2 V nominal (16 × 3.2 V).

The insulation is healthy (GΩ per pole) with a small absorption branch, so a 5 s judgement at
500 V reads a few hundred MΩ, while one at 0.1 s (Y-capacitors still charging) reads ~3 MΩ.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.sim.ocv import Chemistry, ocv_curve

# Checked in PackSpec.__post_init__: a zero here would divide by zero or mean nothing.
_POSITIVE_FIELDS: tuple[str, ...] = (
    "cell_capacity_ah",
    "r0_ohm",
    "block_mass_kg",
    "cp_j_per_kg_k",
    "block_ha_w_per_k",
    "precharge_ohm",
    "bus_capacitance_f",
    "bus_bleed_ohm",
)
_NON_NEGATIVE_FIELDS: tuple[str, ...] = (
    "r1_ohm",
    "tau1_s",
    "r2_ohm",
    "tau2_s",
    "interconnect_ohm",
    "capacity_sigma",
    "r0_sigma",
    "soc_sigma",
)


@dataclass(frozen=True)
class PackSpec:
    """What a pack is: topology, per-cell parameters at 25 °C, spreads and fixture values.

    Resistances are per cell in Ω (``r2_ohm = 0`` disables the 2nd RC; a τ of 0 makes that RC
    a plain resistance); ``capacity_sigma`` and ``r0_sigma`` are relative, ``soc_sigma``
    absolute (SOC fraction). Thermal values are per series block. ``interconnect_ohm`` is per
    busbar. ``seed`` is the default spread seed.
    """

    name: str
    chemistry: Chemistry
    series: int
    parallel: int
    cell_capacity_ah: float
    r0_ohm: float
    r1_ohm: float
    tau1_s: float
    r2_ohm: float = 0.0
    tau2_s: float = 0.0
    capacity_sigma: float = 0.005
    r0_sigma: float = 0.03
    soc_sigma: float = 0.003
    initial_soc: float = 0.5
    ambient_c: float = 25.0
    block_mass_kg: float = 1.0
    cp_j_per_kg_k: float = 1000.0
    block_ha_w_per_k: float = 0.5
    interconnect_ohm: float = 0.1e-3
    r_iso_plus_ohm: float = 5e9
    r_iso_minus_ohm: float = 5e9
    c_y_plus_f: float = 100e-9
    c_y_minus_f: float = 100e-9
    absorption_c_factor: float = 1.0
    absorption_tau_s: float = 20.0
    precharge_ohm: float = 50.0
    bus_capacitance_f: float = 1e-3
    bus_bleed_ohm: float = 10e3
    hvil_closed: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        ocv_curve(self.chemistry)  # raises on an unknown chemistry
        if self.series < 1 or self.parallel < 1:
            raise ValueError(f"pack spec {self.name!r}: series and parallel must be ≥ 1")
        for name in _POSITIVE_FIELDS:
            if not getattr(self, name) > 0.0:
                raise ValueError(f"pack spec {self.name!r}: {name} must be > 0")
        for name in _NON_NEGATIVE_FIELDS:
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"pack spec {self.name!r}: {name} must be ≥ 0")

    @property
    def nominal_capacity_ah(self) -> float:
        """Get the nominal pack capacity in Ah (cell capacity × parallel)."""
        return self.cell_capacity_ah * self.parallel


_SPECS: dict[str, PackSpec] = {
    "nmc96s": PackSpec(
        name="nmc96s",
        chemistry="NMC",
        series=96,
        parallel=2,
        cell_capacity_ah=30.0,
        r0_ohm=1.8e-3,
        r1_ohm=0.9e-3,
        tau1_s=40.0,
        r2_ohm=0.6e-3,
        tau2_s=600.0,
        capacity_sigma=0.005,
        r0_sigma=0.03,
        soc_sigma=0.003,
        initial_soc=0.5,
        ambient_c=25.0,
        block_mass_kg=1.3,  # two 0.65 kg pouch cells
        cp_j_per_kg_k=1000.0,
        block_ha_w_per_k=0.6,
        interconnect_ohm=0.1e-3,
        r_iso_plus_ohm=5e9,
        r_iso_minus_ohm=5e9,
        c_y_plus_f=100e-9,
        c_y_minus_f=100e-9,
        absorption_c_factor=1.0,
        absorption_tau_s=20.0,
        precharge_ohm=50.0,
        bus_capacitance_f=1e-3,  # fixture capacitor; τ = 50 ms
        bus_bleed_ohm=10e3,
        hvil_closed=True,
        seed=96,
    ),
    "lfp16s": PackSpec(
        name="lfp16s",
        chemistry="LFP",
        series=16,
        parallel=1,
        cell_capacity_ah=100.0,
        r0_ohm=0.6e-3,
        r1_ohm=0.3e-3,
        tau1_s=30.0,
        r2_ohm=0.2e-3,
        tau2_s=500.0,
        capacity_sigma=0.005,
        r0_sigma=0.03,
        soc_sigma=0.003,
        initial_soc=0.5,
        ambient_c=25.0,
        block_mass_kg=2.0,  # one 100 Ah prismatic cell
        cp_j_per_kg_k=1000.0,
        block_ha_w_per_k=0.8,
        interconnect_ohm=0.1e-3,
        r_iso_plus_ohm=2e9,
        r_iso_minus_ohm=2e9,
        c_y_plus_f=100e-9,
        c_y_minus_f=100e-9,
        absorption_c_factor=1.0,
        absorption_tau_s=20.0,
        precharge_ohm=20.0,
        bus_capacitance_f=2e-3,  # τ = 40 ms
        bus_bleed_ohm=5e3,
        hvil_closed=True,
        seed=16,
    ),
}

#: Names accepted by :func:`get_pack_spec`.
PACK_NAMES: tuple[str, ...] = tuple(_SPECS)


def get_pack_spec(name: str) -> PackSpec:
    """Get the named example pack spec (one of :data:`PACK_NAMES`)."""
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown pack {name!r}; choose one of {', '.join(PACK_NAMES)}") from None
