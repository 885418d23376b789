"""``usguide bench --igtl``: the benchmark with every result streamed over OpenIGTLink (loopback),
optionally to a client that never reads, so the server's cost on the frame path is measured."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import numpy as np

from usguide.igt.publishing import PublishingAnalyzer
from usguide.igt.server import LOOPBACK, IgtServer
from usguide.pipeline.bench import BenchConfig, make_bench_analyzer, run_bench


def run_bench_igt(
    config: BenchConfig,
    port: int,
    *,
    stalled_client: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict:
    """``run_bench`` with an ``IgtServer`` on loopback publishing every result (created here, on
    the calling thread); the run's JSON gains an ``igtl`` entry (counts, publish cost in ms)."""
    server = IgtServer(port, LOOPBACK).start()
    stalled = None
    try:
        if stalled_client:
            stalled = socket.create_connection((LOOPBACK, server.port), timeout=2.0)
            deadline = time.monotonic() + 2.0
            while server.clients == 0 and time.monotonic() < deadline:
                time.sleep(0.01)

        def factory(cfg: BenchConfig):  # noqa: ANN202
            analyzer, info = make_bench_analyzer(cfg)
            return PublishingAnalyzer(analyzer, server), info

        result = run_bench(config, progress=progress, analyzer_factory=factory)
    finally:
        if stalled is not None:
            stalled.close()
        server.stop()
    costs = np.asarray(list(server.publish_ns)[config.warmup :], dtype=np.float64) / 1e6
    result["igtl"] = {
        "port": server.port,
        "stalled_client": stalled_client,
        "published": server.published,
        "dropped": server.dropped,
        "sent": server.sent,
        "publish_ms": {
            name: float(np.percentile(costs, q)) if costs.size else None
            for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
        },
    }
    return result


def format_igt(run: dict) -> str:
    """One line for the report: what the OpenIGTLink server cost the frame path."""
    igt = run.get("igtl")
    if not igt:
        return ""
    cost = igt["publish_ms"]
    if cost["p95"] is None:
        return "OpenIGTLink: nothing published"
    client = "a stalled client" if igt["stalled_client"] else "no client"
    return (
        f"OpenIGTLink (port {igt['port']}, {client}): publish p50 {cost['p50']:.3f} ms, "
        f"p95 {cost['p95']:.3f} ms, max {cost['max']:.3f} ms; {igt['published']} published, "
        f"{igt['sent']} sent, {igt['dropped']} dropped"
    )
