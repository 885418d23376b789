"""Simulator speed: frames per second of the clip renderer and SimulatorSource (one core, unpaced).

Run ``python -m usguide.sources.simulator_bench``. It lives in ``sources`` because it measures the
``SimulatorSource`` adapter as well as the ``simulate`` library below it.
"""

from __future__ import annotations

import time

from usguide.simulate.clip import ClipRenderer
from usguide.simulate.config import SimConfig
from usguide.sources.simulator import SimulatorSource


def bench_simulator(
    width: int = 640,
    height: int = 480,
    frames: int = 150,
    variants: tuple[str, ...] = ("linear", "convex", "screen", "random"),
) -> dict[str, dict[str, float]]:
    """Measures the simulator.

    Returns:
        per variant (and "source"): setup_s (one clip's anatomy and speckle), fps (wall clock,
        frames after setup) and cpu_fps (frames per CPU-second of this process: the one-core
        figure even on a busy machine).
    """
    out: dict[str, dict[str, float]] = {}
    for variant in variants:
        start = time.perf_counter()
        config = SimConfig(seed=1, variant=variant, width=width, height=height, n_frames=frames)
        renderer = ClipRenderer(config)
        setup = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        for index in range(frames):
            renderer.frame(index)
        out[variant] = {
            "setup_s": setup,
            "fps": frames / (time.perf_counter() - start),
            "cpu_fps": frames / max(time.process_time() - cpu, 1e-9),
        }
    source = SimulatorSource("random", seed=1, width=width, height=height, realtime=False)
    source.open()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(frames):
        source.read()
    out["source"] = {
        "setup_s": 0.0,
        "fps": frames / (time.perf_counter() - start),
        "cpu_fps": frames / max(time.process_time() - cpu, 1e-9),
    }
    source.close()
    return out


def main() -> None:
    import cv2

    cv2.setNumThreads(1)  # measure on one core
    for name, row in bench_simulator().items():
        print(
            f"{name:8s} setup {row['setup_s'] * 1000:7.1f} ms   {row['fps']:7.1f} frames/s wall"
            f"   {row['cpu_fps']:7.1f} frames/CPU-s"
        )


if __name__ == "__main__":
    main()
