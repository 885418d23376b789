"""Detector by name (``onnx`` or ``classical``) and the shared ``--detector/--model`` options."""

from __future__ import annotations

import argparse

from usguide.checks import number_option
from usguide.detect.base import Detector
from usguide.errors import UsguideError

DETECTORS = ("onnx", "classical")


def make_detector(
    name: str = "onnx",
    model_path: str | None = None,
    provider: str = "cpu",
    threads: int | None = None,
) -> Detector:
    """Builds a detector.

    Args:
        name: ``onnx`` (the trained model) or ``classical`` (ridge-filter baseline, no model).
        model_path: ONNX model file; default: the bundled model (``usguide.paths``).
        provider: ONNX Runtime execution provider (``cpu``, ``cuda``, ...).
        threads: intra-op threads for the model; None lets the detector choose.

    Raises:
        UsguideError: unknown name, or a missing/bad model.
    """
    if name == "classical":
        from usguide.detect.classical import ClassicalDetector

        return ClassicalDetector()
    if name == "onnx":
        try:
            from usguide.detect.onnx_detector import OnnxDetector
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("usguide"):
                raise UsguideError(
                    "the ONNX detector is not available in this build — use --detector classical"
                ) from None
            raise
        return OnnxDetector(model_path=model_path, provider=provider, threads=threads)
    raise UsguideError(f"unknown detector {name!r} — use one of: {', '.join(DETECTORS)}")


def add_detector_arguments(
    parser: argparse.ArgumentParser,
    *,
    choices: tuple[str, ...] = DETECTORS,
    default: str | None = "onnx",
    default_help: str | None = None,
    threads_default: int | None = None,
) -> None:
    """Adds ``--detector``, ``--model``, ``--provider`` and ``--threads`` to a subcommand.

    Args:
        parser: the subcommand's parser.
        choices: the detector names it accepts.
        default: the ``--detector`` value when none is given.
        default_help: how the help names the default when it is worked out at run time
            (``default`` None); otherwise ``default`` itself.
        threads_default: ``--threads`` when none is given (None: the detector chooses).
    """
    parser.add_argument(
        "--detector",
        choices=choices,
        default=default,
        help=f"needle detector (default: {default_help or default}); classical needs no model",
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        default=None,
        help="ONNX model file (default: the bundled model, or $USGUIDE_MODEL)",
    )
    parser.add_argument(
        "--provider", metavar="NAME", default="cpu", help="ONNX Runtime provider: cpu, cuda, ..."
    )
    parser.add_argument(
        "--threads",
        metavar="T",
        type=number_option(1, 256, integer=True),
        default=threads_default,
        help=f"inference threads, 1-256 (default: {threads_default or 'min(2, CPU cores)'})",
    )


def detector_from_args(args: argparse.Namespace, name: str | None = None) -> Detector:
    """``make_detector`` from parsed ``add_detector_arguments`` options."""
    return make_detector(
        name or args.detector,
        model_path=args.model,
        provider=args.provider,
        threads=args.threads,
    )
