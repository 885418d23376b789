"""``usguide export``: a session (or a DICOM, video or sequence file) to a PLUS/Slicer sequence file
(``.seq.nrrd``, ``.mha``) or to CSV; every image export is de-identified."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from usguide.checks import MAX_MM_PER_PX, MIN_MM_PER_PX, number_option
from usguide.errors import UsguideError
from usguide.progress import Progress
from usguide.types import Calibration, Roi

FORMATS = ("seq.nrrd", "mha", "csv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``usguide export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a session as a PLUS/Slicer sequence file (.seq.nrrd, .mha) or CSV",
        description="Writes INPUT (a session folder, or a DICOM, video or sequence file) as a "
        "sequence file that 3D Slicer and PLUS open: per-frame timestamps and image status, "
        "NeedleTipToImage / NeedleEntryToImage transforms on frames where the needle was measured. "
        "No DICOM identifier is copied, and everything outside the image region (burned-in "
        "names, dates, IDs) is masked unless --keep-burned-in is given.",
        epilog="examples:\n"
        "  usguide export sessions/s1 --out case.seq.nrrd\n"
        "  usguide export cine.dcm --out case.mha\n"
        "  usguide export sessions/s1 --out needle.csv",
    )
    parser.add_argument("input", metavar="INPUT", help="session folder, DICOM, video, .mha ...")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="output file")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: from the --out suffix)",
    )
    parser.add_argument("--roi", metavar="X,Y,W,H", help="image region (default: the input's)")
    parser.add_argument(
        "--mm-per-px",
        type=number_option(MIN_MM_PER_PX, MAX_MM_PER_PX),
        metavar="MM",
        help="scale (default: the input's)",
    )
    parser.add_argument(
        "--keep-burned-in",
        action="store_true",
        help="keep the pixels outside the image region (they may show patient text)",
    )
    parser.set_defaults(func=run)


def output_format(out: Path, given: str | None) -> str:
    """The format asked for, or the one the file name implies."""
    if given:
        return given
    name = out.name.lower()
    for fmt in FORMATS:
        if name.endswith("." + fmt):
            return fmt
    raise UsguideError(f"cannot tell the format of {out.name}: give --format {'|'.join(FORMATS)}")


def run(args: argparse.Namespace) -> int:
    """Exports and prints one line saying what was written and removed."""
    fmt = output_format(args.out, args.format)
    source_path = Path(args.input).expanduser()
    if not source_path.exists():
        raise UsguideError(f"input not found: {args.input} — give a session folder or a file")
    if fmt == "csv":
        from usguide.record.export import export_csv

        rows = export_csv(source_path, args.out)
        print(f"wrote {args.out} ({rows} rows)")
        return 0
    if not args.out.name.lower().endswith(".mha" if fmt == "mha" else ".nrrd"):
        raise UsguideError(f"--out {args.out.name} must end in .{fmt} for --format {fmt}")
    if args.mm_per_px is not None and not args.mm_per_px > 0:
        raise UsguideError(f"bad --mm-per-px {args.mm_per_px}: must be > 0")
    with Progress("export", enabled=not args.quiet) as bar:
        summary = export_input(
            source_path,
            args.out,
            roi=Roi.parse(args.roi) if args.roi else None,
            mm_per_px=args.mm_per_px,
            keep_burned_in=args.keep_burned_in,
            on_frame=bar.update,
        )
    print(f"wrote {args.out} ({summary.frames} frames); {summary.deidentification}")
    return 0


def export_input(
    path: Path,
    out: Path,
    *,
    roi: Roi | None = None,
    mm_per_px: float | None = None,
    keep_burned_in: bool = False,
    on_frame: Callable[[], None] | None = None,
):  # noqa: ANN201 - ExportSummary, imported lazily
    """Exports a session folder or a recorded file to a sequence file (see ``run``);
    ``on_frame`` is called after each frame is handed to the writer (progress)."""
    from usguide.record.deidentify import dicom_identifiers_present
    from usguide.record.sequence_export import export_sequence

    if (path / "meta.json").is_file():  # a session: its recorded results come along
        frames, calibration, first = _session_frames(path)
        identifiers: list[str] = []
    else:
        frames, calibration, first = _source_frames(path)
        identifiers = dicom_identifiers_present(path) if _is_dicom(path) else []
    calibration = Calibration(
        mm_per_px=mm_per_px if mm_per_px is not None else calibration.mm_per_px,
        roi=roi or calibration.roi,
    )
    if calibration.roi is None and not keep_burned_in:
        from usguide.sources.roi_detect import region_to_mask

        calibration = Calibration(calibration.mm_per_px, region_to_mask(None, first))
    if calibration.roi is not None:
        calibration.roi.check_inside(first[0].shape[1], first[0].shape[0])
    if on_frame is not None:
        frames = _counted(frames, on_frame)
    return export_sequence(
        frames,
        out,
        calibration=calibration,
        keep_burned_in=keep_burned_in,
        identifiers=identifiers,
    )


def _counted(frames: Iterator, on_frame: Callable[[], None]) -> Iterator:
    for frame in frames:
        yield frame
        on_frame()


def _is_dicom(path: Path) -> bool:
    from usguide.sources.dicom import is_dicom_file

    return is_dicom_file(path)


def _session_frames(path: Path):  # noqa: ANN202
    from usguide.record.reader import SessionReader
    from usguide.record.sequence_export import ExportFrame

    reader = SessionReader(path)
    if reader.frame_count == 0:
        reader.close()
        raise UsguideError(f"session {path} holds no frames")
    first = [reader.frame(i) for i in range(min(8, reader.frame_count))]
    t0 = int(reader.t_capture_ns[0])

    def frames() -> Iterator:
        with reader:
            reader.seek(0)
            for i in range(reader.frame_count):
                yield ExportFrame(
                    reader.read_next(),
                    (int(reader.t_capture_ns[i]) - t0) / 1e9,
                    reader.result(i),
                )

    return frames(), reader.calibration, first


def _source_frames(path: Path):  # noqa: ANN202
    from usguide.record.sequence_export import ExportFrame
    from usguide.sources.factory import make_source
    from usguide.sources.frames import iter_frames

    source = make_source(str(path))
    source.open()
    try:
        first_frames: list[np.ndarray] = []
        for frame in iter_frames(source):
            first_frames.append(frame.image)
            calibration = frame.calibration
            if len(first_frames) >= 8:
                break
        if not first_frames:
            raise UsguideError(f"{path.name} holds no frames")
        source.seek(0)
    except BaseException:
        source.close()
        raise

    def frames() -> Iterator:
        try:
            t0 = None
            for frame in iter_frames(source):
                t0 = frame.source_ms if t0 is None else t0
                yield ExportFrame(frame.image, (frame.source_ms - t0) / 1000.0, None)
        finally:
            source.close()

    return frames(), calibration, first_frames
