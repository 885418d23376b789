"""Writes labelled clips (``video.mkv`` FFV1 + ``truth.json``) and the bundled demo recording."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import cv2

from usguide.errors import UsguideError
from usguide.simulate.clip import ClipRenderer
from usguide.simulate.config import GroundTruth, SimConfig
from usguide.simulate.script_truth import script_truth

TRUTH_FORMAT = "usguide-sim-truth"
TRUTH_VERSION = 1
# The demo: a linear-probe in-plane insertion from the right toward a vessel, 6 s at 30 fps
# (smoothed like a modern scanner and MJPG, 448x336: OpenCV's MJPG writer needs ~30 KB a frame,
# the limit is 6 MB).
DEMO_CONFIG = SimConfig(
    seed=20240,
    variant="linear",
    width=448,
    height=336,
    fps=30.0,
    n_frames=180,
    depth_mm=40.0,
    needle=True,
    gauge=21,
    angle_range=(28.0, 28.0),
    side="right",
    screen=False,
    artefacts=False,
    motion=0.6,
    needle_gain=9.0,
    target=(-4.0, 24.0),
    elevation="aligned",
    speckle_reduction=2.2,
    entry="edge",
    medium="in_vivo",
    needle_style="plain",
    margins=False,
    surface_line=False,
)


def truth_header(config: SimConfig, renderer: ClipRenderer) -> dict:
    geo = renderer.geometry
    first = renderer.frame(0)
    height, width = first.image.shape[:2]
    return {
        "format": TRUTH_FORMAT,
        "version": TRUTH_VERSION,
        "seed": config.seed,
        "variant": config.variant,
        "probe": geo.kind,
        "fps": float(config.fps),
        "width": int(width),
        "height": int(height),
        "mm_per_px": round(geo.mm_per_px, 6),
        "roi": renderer.roi.as_list(),
        "depth_mm": round(geo.depth_mm, 3),
        **clip_strata(renderer),
        "frames": [],
    }


def clip_strata(renderer: ClipRenderer) -> dict:
    """What the clip was drawn with (the evaluation's strata); new fields old readers ignore."""
    res = renderer.res
    needle = res.needle
    strata = {
        "style": renderer.config.style,
        "medium": res.medium,
        "geometry": res.geometry,
        "gauge": res.gauge if needle else None,
        "needle_style": res.needle_style if needle else None,
        "angle_deg": round(res.angle_deg, 2) if needle else None,
        "side": res.side if needle else None,
        "entry": res.entry if needle else None,
        "surface_line": res.surface_line,
        "texture": res.texture,
        "heldout": list(res.heldout),
        "image_box": renderer.inner.as_list(),
    }
    if renderer.geometry.kind == "convex":
        strata["fan_deg"] = round(math.degrees(2 * renderer.geometry.half_angle), 2)
        strata["radius_mm"] = round(renderer.geometry.radius_mm, 2)
    return strata


def write_truth(path: Path, header: dict, truths: list[GroundTruth]) -> None:
    data = dict(header)
    data["frames"] = [truth.to_json(index) for index, truth in enumerate(truths)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_clip(out_dir: Path, config: SimConfig) -> int:
    """Writes ``out_dir/video.mkv`` (FFV1, lossless) and ``out_dir/truth.json``.

    Returns:
        the number of frames written.
    """
    renderer = ClipRenderer(config)
    header = truth_header(config, renderer)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsguideError(
            f"cannot create {out_dir}: {exc.strerror}; choose another --out"
        ) from None
    size = (header["width"], header["height"])
    first = renderer.frame(0).image
    colour = first.ndim == 3
    video = cv2.VideoWriter(
        str(out_dir / "video.mkv"),
        cv2.CAP_FFMPEG,
        cv2.VideoWriter_fourcc(*"FFV1"),
        config.fps,
        size,
        colour,
    )
    if not video.isOpened():
        raise UsguideError(
            f"OpenCV cannot write FFV1 video to {out_dir}: check the folder is writable"
        )
    truths: list[GroundTruth] = []
    try:
        for index in range(config.n_frames):
            sim = renderer.frame(index)
            if video.write(sim.image) is False:  # OpenCV >= 5 says when FFmpeg could not write
                raise UsguideError(
                    f"cannot write the video in {out_dir}: the disk is full or the folder is "
                    "unwritable — free some space or choose another --out"
                )
            truths.append(sim.truth)
    finally:
        video.release()
    if config.script is not None:
        # The insertion was written out: its true trainer metrics (redirections, visibility, tip
        # path, time to target) go with the per-frame labels.
        header["script_truth"] = script_truth(renderer, truths)
    write_truth(out_dir / "truth.json", header, truths)
    return len(truths)


def write_clips(
    out_dir: Path,
    clips: int,
    seed: int,
    variant: str,
    frames: int,
    size: tuple[int, int],
    progress: Callable[[str], None] | None = None,
    options: dict[str, object] | None = None,
) -> list[Path]:
    """Writes ``clips`` clips with seeds ``seed``, ``seed + 1``, ... into ``out_dir/clip_NNNN``.

    ``options`` fixes further SimConfig fields for every clip (style, angle_range, medium, ...).
    """
    written = []
    start = time.perf_counter()
    for number in range(clips):
        config = SimConfig(
            seed=seed + number,
            variant=variant,
            width=size[0],
            height=size[1],
            n_frames=frames,
            **(options or {}),  # type: ignore[arg-type]
        )
        config.validate()
        clip_dir = out_dir / f"clip_{number:04d}"
        write_clip(clip_dir, config)
        written.append(clip_dir)
        if progress:
            rate = (number + 1) * frames / (time.perf_counter() - start)
            progress(f"clip {number + 1}/{clips} -> {clip_dir} ({rate:.0f} frames/s)")
    return written


def write_demo(out_dir: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Writes the bundled demo session (via the session writer) plus ``truth.json`` next to it."""
    from usguide.record.writer import SessionWriter  # the recorder is only needed here
    from usguide.types import Calibration, Frame, SourceInfo

    config = DEMO_CONFIG
    renderer = ClipRenderer(config)
    header = truth_header(config, renderer)
    info = SourceInfo(
        name="simulator:demo",
        kind="simulator",
        width=header["width"],
        height=header["height"],
        fps=config.fps,
        live=False,
        frame_count=config.n_frames,
    )
    calibration = Calibration(mm_per_px=renderer.mm_per_px, roi=renderer.roi)
    procedure = {
        "description": "simulated in-plane insertion toward a vessel (usguide simulator)",
        "seed": config.seed,
    }
    writer = SessionWriter(
        out_dir,
        info,
        calibration,
        procedure,
        codec=DEMO_CODEC,
        queue_size=config.n_frames + 2,
        quality=DEMO_QUALITY,
        overwrite=True,
    )
    stale_truth = Path(out_dir) / "truth.json"
    if stale_truth.is_file():
        stale_truth.unlink()  # ours, from an earlier demo: the writer only accepts session files
    writer.start()
    truths = []
    base = time.perf_counter_ns()
    try:
        for index in range(config.n_frames):
            sim = renderer.frame(index)
            frame = Frame(
                image=sim.image,
                index=index,
                t_capture_ns=base + int(index * 1e9 / config.fps),
                source_ms=index * 1000.0 / config.fps,
                calibration=calibration,
            )
            if not writer.write(frame):
                raise UsguideError(f"the session writer refused demo frame {index}: {writer.error}")
            truths.append(sim.truth)
    finally:
        writer.close()
    if writer.error is not None:
        raise writer.error
    write_truth(Path(out_dir) / "truth.json", header, truths)
    if progress:
        total = sum(p.stat().st_size for p in Path(out_dir).iterdir() if p.is_file())
        progress(f"demo written to {out_dir} ({total / 1e6:.1f} MB)")
    return Path(out_dir)


DEMO_CODEC = "mjpg"
DEMO_QUALITY = 60
