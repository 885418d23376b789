"""``usguide record``: records any source into a session folder (see usguide/record/FORMAT.md).

Ctrl-C stops the recording cleanly: what was captured is written and meta.json is finalised.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from usguide.checks import number_option
from usguide.errors import UsguideError
from usguide.record.format import CODECS
from usguide.record.procedure import FIELDS, parse_assignments
from usguide.record.writer import SessionWriter
from usguide.sources.factory import add_source_arguments, source_from_args
from usguide.sources.frames import IDLE_READ_S, iter_frames
from usguide.types import Frame, Roi, SourceInfo


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide record``."""
    parser = subparsers.add_parser(
        "record",
        help="record a source into a session folder",
        description="Record frames from any source into a session folder (lossless FFV1 by "
        "default). Ctrl-C stops and keeps everything recorded so far.",
        epilog="examples:\n"
        "  usguide record --source device:0 --out sessions/s1 --seconds 600 "
        "--procedure type=biopsy\n"
        "  usguide record --source demo --out /tmp/s --frames 100 --codec mjpg",
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--source", required=True, metavar="SPEC", help="what to record (file, device, ...)"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="new session folder")
    parser.add_argument(
        "--frames",
        type=number_option(1, 10**9, integer=True),
        metavar="N",
        help="stop after N frames",
    )
    parser.add_argument(
        "--seconds",
        type=number_option(0.0, 366 * 86400.0, open_low=True),
        metavar="S",
        help="stop after S seconds",
    )
    parser.add_argument(
        "--codec",
        choices=sorted(CODECS),
        default="ffv1",
        help="ffv1: lossless (default); mjpg: small",
    )
    parser.add_argument(
        "--quality",
        type=number_option(1, 100, integer=True),
        default=90,
        metavar="Q",
        help="JPEG quality 1..100 for --codec mjpg",
    )
    parser.add_argument(
        "--procedure",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="procedure record field, e.g. --procedure type=biopsy --procedure gauge=18 "
        "(repeatable; no patient name or birth date; fields: " + ", ".join(FIELDS) + ")",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an earlier session in --out"
    )
    parser.add_argument(
        "--keep-burned-in",
        action="store_true",
        help="a DICOM's frames keep the text outside the image region (default: masked black)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Records until --frames, --seconds, the end of the source or Ctrl-C; prints a summary line."""
    procedure = parse_procedure(args.procedure)
    if args.frames is not None and args.frames < 1:
        raise UsguideError(f"--frames must be at least 1, got {args.frames}")
    if args.seconds is not None and args.seconds <= 0:
        raise UsguideError(f"--seconds must be positive, got {args.seconds}")
    source = source_from_args(args, args.source)
    writer: SessionWriter | None = None
    interrupted = False
    stop_requested = threading.Event()
    restore_signals = _stop_on_signals(stop_requested)
    from usguide.sources.video import quiet_opencv

    try:
        with source, quiet_opencv():  # a failed write is reported once, by the writer
            try:
                limit = _TimeLimit(args.seconds)
                # A recording waits for a lost device to come back (until a limit stops it).
                frames = iter_frames(
                    source,
                    end_on_lost=False,
                    should_stop=lambda: stop_requested.is_set() or limit.reached(),
                )
                first = next(frames, None)
                if first is None and stop_requested.is_set():
                    raise UsguideError(_NOTHING_RECORDED)
                if first is None:
                    raise UsguideError(f"{source.info.name} delivered no frame; nothing to record")
                writer = SessionWriter(
                    args.out,
                    source.info,
                    first.calibration,
                    procedure,
                    codec=args.codec,
                    quality=args.quality,
                    overwrite=args.overwrite,
                    mask=_burned_in_mask(source.info, first, args.keep_burned_in),
                    identifiers=_dicom_identifiers(source.info, args.source),
                )
                writer.start()
                limit.start()
                _record(frames, source.info.live, writer, first, args.frames)
            except KeyboardInterrupt:  # only where no handler could be installed (not main thread)
                interrupted = True
            interrupted = interrupted or stop_requested.is_set()
    finally:
        if writer is not None:
            writer.close()
        restore_signals()
    if writer is None:
        raise UsguideError(_NOTHING_RECORDED)
    stop = " (stopped by Ctrl-C or a signal)" if interrupted else ""
    print(
        f"recorded {writer.written} frames ({writer.dropped} dropped, "
        f"{writer.refused_time + writer.refused_size} refused) in {writer.duration_s:.1f} s "
        f"to {args.out}{stop}"
    )
    if writer.error is not None:
        # The writer has logged it once ("usguide: error: recording stopped: ..."): no repeat.
        return UsguideError.exit_code
    return 0


def parse_procedure(items: list[str]) -> dict:
    """Turns ``["type=biopsy", "gauge=18"]`` into meta.json's procedure record (see FORMAT.md).

    Raises:
        UsguideError: an item without ``=``, or a field or value the schema refuses.
    """
    return parse_assignments(items).to_json()


def _burned_in_mask(info: SourceInfo, first: Frame, keep: bool) -> Roi | None:
    """The region outside which a DICOM's frames are stored black (names, dates, IDs burned in);
    None for other sources or with ``--keep-burned-in``."""
    if info.kind != "dicom" or keep:
        return None
    from usguide.sources.roi_detect import region_to_mask

    return region_to_mask(first.calibration.roi, first.image)


def _dicom_identifiers(info: SourceInfo, spec: str) -> list[str]:
    """The identifying attributes the DICOM held (names only; meta.json says they were left out)."""
    if info.kind != "dicom":
        return []
    from usguide.record.deidentify import dicom_identifiers_present

    return dicom_identifiers_present(spec)


_NOTHING_RECORDED = "interrupted before the first frame arrived; nothing was recorded"


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP set ``stop``: the frame loop ends before its next read
    and the writer finishes the file and meta.json; further signals change nothing.

    A flag, not an exception: a KeyboardInterrupt raised at whatever line the main thread is on
    (inside a queue's or a log handler's lock) could leave a lock held that the writer thread then
    waits on for ever (the Ctrl-C test hung twice on a loaded machine while the handler raised).
    Returns what restores the handlers.
    """
    wanted = [signal.SIGINT, signal.SIGTERM] + (
        [signal.SIGHUP] if hasattr(signal, "SIGHUP") else []
    )

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    try:
        previous = {number: signal.signal(number, request_stop) for number in wanted}
    except ValueError:  # not the main thread (tests calling run() from a thread): leave them
        return lambda: None

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore


class _TimeLimit:
    """``--seconds``: reached that long after ``start()`` (never before it, nor without a limit)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._start_ns: int | None = None

    def start(self) -> None:
        self._start_ns = time.perf_counter_ns()

    def reached(self) -> bool:
        if self.seconds is None or self._start_ns is None:
            return False
        return time.perf_counter_ns() - self._start_ns >= self.seconds * 1e9


def _record(
    frames: Iterator[Frame],
    live: bool,
    writer: SessionWriter,
    first: Frame,
    max_frames: int | None,
) -> None:
    offered = 0
    for frame in itertools.chain((first,), frames):
        if not live:
            # A file can wait for the writer: recording it should lose nothing.
            while writer.backlog >= writer.queue_size and writer.error is None:
                time.sleep(IDLE_READ_S)
        writer.write(frame)
        offered += 1
        if writer.error is not None:
            return
        if max_frames is not None and offered >= max_frames:
            return
