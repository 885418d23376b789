"""The simulator speed measurement: every variant and the source get a positive rate."""

from __future__ import annotations

from usguide.sources.simulator_bench import bench_simulator


def test_bench_simulator_measures_each_variant_and_the_source() -> None:
    rows = bench_simulator(width=96, height=72, frames=3, variants=("linear", "convex"))
    assert list(rows) == ["linear", "convex", "source"]
    for row in rows.values():
        assert row["setup_s"] >= 0 and row["fps"] > 0 and row["cpu_fps"] > 0
