"""``usguide train``: simulate labelled clips, train the needle network, export the ONNX model."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from usguide.checks import number_option
from usguide.errors import UsguideError
from usguide.paths import MODEL_FILE, output_path
from usguide.progress import Progress

EXTRA_HINT = "training needs the optional extra: pip install -e '.[train]' (torch, onnx)"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the needle model on simulated clips (needs the train extra)",
        description="Simulates labelled clips (cached in a temp folder), trains the needle network "
        "with domain randomisation and exports an ONNX model plus training_log.json next to it. "
        "The defaults (800 clips x 8 frames, 20 epochs) take about 1.5-2 hours on a 2-core CPU in "
        "fp32, well under an hour where the CPU computes bf16 (AMX, AVX-512 BF16).",
        epilog="examples:\n"
        "  usguide train --out models/needle_new.onnx --minutes 30\n"
        "  usguide train --device cuda --workers 7 --init models/needle.onnx --lr 5e-4\n"
        "  usguide train --data-only --cache-dir /data/usguide-cache\n"
        "  usguide label clinic_clip.mp4 --out dev/clinic_clip   (then, for the epoch choice:)\n"
        "  usguide train --init models/needle.onnx --lr 2e-4 --select-cases dev --minutes 60",
    )
    count = number_option(1, 10**7, integer=True)
    parser.add_argument(
        "--out",
        type=Path,
        default=output_path(MODEL_FILE),  # never into site-packages (wheel install)
        metavar="MODEL.onnx",
        help="the ONNX model to write; training_log.json goes beside it "
        "(default: models/needle.onnx in a checkout, else needle.onnx in the current folder)",
    )
    parser.add_argument(
        "--seed",
        type=number_option(0, 2**32 - 1, integer=True),
        default=0,
        help="model init, data order, augmentation",
    )
    parser.add_argument(
        "--clips", type=count, default=800, metavar="N", help="training clips (seeds 0..N-1)"
    )
    parser.add_argument(
        "--frames-per-clip", type=count, default=8, metavar="F", help="frames kept per clip"
    )
    parser.add_argument(
        "--val-clips",
        type=count,
        default=60,
        metavar="N",
        help="validation clips (seeds 100000+)",
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--epochs", type=count, default=None, metavar="E", help="number of epochs (default 20)"
    )
    budget.add_argument(
        "--minutes",
        type=number_option(0.0, 10**6, open_low=True),
        default=None,
        metavar="M",
        help="train for this wall time instead of a number of epochs (default: off)",
    )
    parser.add_argument(
        "--input-size",
        type=number_option(64, 4096, integer=True),
        default=256,
        metavar="PX",
        help="model input size (multiple of 16)",
    )
    parser.add_argument(
        "--batch-size",
        type=number_option(1, 4096, integer=True),
        default=16,
        metavar="B",
        help="frames per optimisation step",
    )
    parser.add_argument(
        "--lr",
        type=number_option(0.0, 1.0, open_low=True),
        default=1e-3,
        help="AdamW learning rate",
    )
    parser.add_argument(
        "--width",
        type=number_option(4, 1024, integer=True),
        default=16,
        metavar="W",
        help="network width (16: ~0.2 M parameters)",
    )
    parser.add_argument(
        "--workers",
        type=number_option(0, 256, integer=True),
        default=0,
        help="processes that simulate clips and augment batches (default 0: in-process; "
        "use the spare cores, e.g. 7 of 8, when training on a GPU)",
    )
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        metavar="MODEL.onnx",
        help="continue training from a model made by usguide train (e.g. models/needle.onnx); "
        "use a lower --lr, e.g. 5e-4",
    )
    parser.add_argument(
        "--data-only",
        action="store_true",
        help="simulate and cache the data, then stop (several runs can then share it)",
    )
    parser.add_argument(
        "--composite-fraction",
        type=number_option(0.0, 1.0),
        default=0.4,
        metavar="F",
        help="share of training samples replaced by a needle painted onto a real (pydicom-data), "
        "simulated or phantom background (default 0.4; 0 trains on the simulator alone)",
    )
    parser.add_argument(
        "--distractor-fraction",
        type=number_option(0.0, 1.0),
        default=0.3,
        metavar="F",
        help="share of painted samples given bright tissue lines that are not needles (fascia, "
        "tendon, bone), with or without a needle (default 0.3)",
    )
    parser.add_argument(
        "--composite-backgrounds",
        type=str,
        default="real,sim,phantom",
        metavar="KINDS",
        help="comma-separated backgrounds the painted training samples use: real (pydicom-data "
        "frames), sim (the simulator's needle-free frames), phantom (synthetic phantoms and water "
        "baths) (default: all three; validation always uses all)",
    )
    parser.add_argument(
        "--composite-entry",
        choices=("any", "edge"),
        default="any",
        help="where painted training shafts start: any (at the tissue's edge, or inside it as an "
        "out-of-plane entry; default) or edge (always visible from the edge of the tissue)",
    )
    parser.add_argument(
        "--keep-epochs",
        action="store_true",
        help="also write every epoch's model beside --out (MODEL.epoch001.onnx, ...), to compare "
        "epochs or mix them with python -m usguide.training.interpolate",
    )
    parser.add_argument(
        "--ema",
        type=number_option(0.0, 0.99999),
        default=0.0,
        metavar="DECAY",
        help="validate and export an exponential moving average of the weights with this decay, "
        "e.g. 0.999 (default 0: the raw weights)",
    )
    parser.add_argument(
        "--hard-negatives",
        type=number_option(0.0, 100.0),
        default=0.0,
        metavar="W",
        help="weight of a loss on each frame's strongest shaft-map pixels away from the needle, "
        "against false lines on fascia and muscle (e.g. 1; default 0: off)",
    )
    parser.add_argument(
        "--composite-val",
        type=number_option(0, 100_000, integer=True),
        default=320,
        metavar="N",
        help="painted validation samples on real and phantom backgrounds whose loss joins the "
        "simulator's in choosing the epoch to keep (default 320; 0: simulator loss alone)",
    )
    parser.add_argument(
        "--select-cases",
        type=Path,
        default=None,
        metavar="DIR",
        help="labelled clips on which each epoch's model runs through the product's analyzer; the "
        "epoch with the most localised hits minus needle-free false positives there is kept, "
        "instead of the lowest validation loss. Give real recordings labelled with usguide label "
        "(never the clips you report on): simulated and painted clips (usguide evaluate --suite "
        "selection) ranked five models opposite to the real clip (models/README.md)",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to train; auto: cuda when torch sees a GPU, else cpu",
    )
    parser.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="number format of the forward pass on the CPU: bf16 autocast (about 2.5x faster where "
        "the CPU has AMX or AVX-512 BF16) or fp32; auto: bf16 where the CPU has it (a GPU trains "
        "in fp32)",
    )
    parser.add_argument(
        "--threads",
        type=number_option(1, 256, integer=True),
        default=None,
        metavar="T",
        help="CPU threads (default min(2, cores))",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where simulated data is cached (default: a usguide folder in the temp folder)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import onnx  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise UsguideError(EXTRA_HINT) from None
    from usguide.training.composite import BACKGROUNDS
    from usguide.training.precision import resolve_precision
    from usguide.training.train import TrainConfig, pick_device, train

    if args.input_size % 16 or args.input_size < 64:
        raise UsguideError(f"--input-size {args.input_size}: use a multiple of 16, at least 64")
    if args.clips < 1 or args.frames_per_clip < 1 or args.val_clips < 1:
        raise UsguideError("--clips, --frames-per-clip and --val-clips must be at least 1")
    if args.minutes is not None and args.minutes <= 0:
        raise UsguideError("--minutes must be positive")
    if args.init is not None and not args.init.is_file():
        raise UsguideError(f"--init {args.init}: no such file — give a model made by usguide train")
    if args.width < 4 or args.workers < 0:
        raise UsguideError("--width must be at least 4 and --workers at least 0")
    if not 0.0 <= args.composite_fraction <= 1.0:
        raise UsguideError("--composite-fraction must be between 0 and 1")
    backgrounds = tuple(kind.strip() for kind in args.composite_backgrounds.split(",") if kind)
    if not backgrounds or set(backgrounds) - set(BACKGROUNDS):
        raise UsguideError(
            f"--composite-backgrounds {args.composite_backgrounds}: give one or more of "
            f"{', '.join(BACKGROUNDS)}, separated by commas"
        )
    if args.epochs is not None and args.epochs < 1:
        raise UsguideError("--epochs must be at least 1")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsguideError("--device cuda: this torch has no CUDA device — use --device cpu")
    try:  # --device auto on a GPU machine too
        resolve_precision(args.precision, pick_device(args.device))
    except ValueError as exc:
        raise UsguideError(f"--precision {args.precision}: {exc}") from None
    out = args.out
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsguideError(
            f"cannot create {out.parent}: {exc.strerror} — choose another --out"
        ) from None
    config = TrainConfig(
        out=out,
        seed=args.seed,
        clips=args.clips,
        frames_per_clip=args.frames_per_clip,
        val_clips=args.val_clips,
        epochs=None if args.minutes else (args.epochs or 20),
        minutes=args.minutes,
        input_size=args.input_size,
        batch_size=args.batch_size,
        lr=args.lr,
        device=args.device,
        precision=args.precision,
        threads=args.threads,
        width=args.width,
        workers=args.workers,
        data_only=args.data_only,
        init=args.init,
        composite_fraction=args.composite_fraction,
        distractor_fraction=args.distractor_fraction,
        composite_backgrounds=backgrounds,
        composite_val=args.composite_val,
        ema=args.ema,
        hard_negative_weight=args.hard_negatives,
        select_cases=args.select_cases,
        composite_edge_entry=args.composite_entry == "edge",
        keep_epochs=args.keep_epochs,
    )
    if args.cache_dir is not None:
        config.cache_dir = args.cache_dir
    with Progress("train", config.epochs, "epoch", enabled=not args.quiet) as bar:
        # Epoch lines count on the bar; every line stays (the log of the run).
        def report(line: str) -> None:
            bar.note(line)
            if line.startswith("epoch "):
                bar.update()

        with _sigterm_interrupts():
            train(config, progress=report)
    return 0


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (``kill``) ends a run as Ctrl-C does, by unwinding: the data workers and their
    forkserver end with it (killed outright, they stayed behind). The best epoch is saved already.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (a caller embedding usguide)
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
