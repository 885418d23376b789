"""``usguide config show|reset``: what the settings file remembers per source, and forgetting it."""

from __future__ import annotations

import argparse

from usguide.settings import ENV_DIR, SettingsStore


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "config",
        help="show or forget the remembered settings (region, scale, budget per source)",
        description="usguide run remembers, per source, the last image region, scale, latency "
        "budget and display mode, and the window's size and place. Values given on the command "
        f"line win over remembered ones. {ENV_DIR} sets another folder for the settings file.",
        epilog="examples:\n  usguide config show\n  usguide config show --source device:0\n"
        "  usguide config reset --source clip.mp4\n  usguide config reset",
    )
    parser.add_argument(
        "action",
        choices=("show", "reset"),
        help="show: print the file's place and what it holds; reset: forget it all (or one source)",
    )
    parser.add_argument(
        "--source",
        metavar="SPEC",
        default=None,
        help="only this source: device:N, a file or folder, demo, sim (default: every source)",
    )
    parser.add_argument(
        "--backend",
        default="any",
        help="with a device --source: the capture backend it was opened with (default: any)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = SettingsStore()
    if args.action == "reset":
        forgotten = store.reset(args.source, args.backend)
        what = "everything" if args.source is None else f"the settings of {args.source}"
        print(
            f"forgot {what} ({store.path})" if forgotten else f"nothing remembered ({store.path})"
        )
        return 0
    settings = store.load()
    print(f"settings file: {store.path}{'' if store.path.exists() else ' (not written yet)'}")
    if args.source is not None:
        key, label = settings.key(args.source, args.backend)
        entry = settings.sources.get(key)
        print(f"{label}: {entry.describe()}" if entry else f"{label}: nothing remembered")
        return 0
    print(f"window geometry: {'remembered' if settings.window_geometry else 'not remembered'}")
    for key, entry in reversed(settings.sources.items()):  # most recently saved first
        name = f"a DICOM file ({key})" if key.startswith("dicom:") else entry.label or key
        print(f"{name}: {entry.describe()}")
    if not settings.sources:
        print("no source remembered yet")
    return 0
