"""The per-user settings file: per source, the last image region, scale, budget and display mode,
plus the window's geometry. Plain JSON in ``platformdirs.user_config_dir("usguide")``
(``USGUIDE_CONFIG_DIR`` overrides the folder); no Qt, no patient identifiers.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usguide.checks import MAX_MM_PER_PX, MIN_MM_PER_PX, check_number, load_json
from usguide.defaults import BUDGET_MS, DISPLAY_MODES
from usguide.errors import UsguideError
from usguide.types import Roi

log = logging.getLogger(__name__)

ENV_DIR = "USGUIDE_CONFIG_DIR"
FILE_NAME = "settings.json"
FORMAT = 1
MAX_SOURCES = 100  # the least recently saved sources are forgotten beyond this
MAX_FILE_BYTES = 1_000_000  # a settings file this large is not one usguide wrote
MAX_BUDGET_MS = 10_000.0
REMEMBERED_SCALES = ("user", "ruler")  # a file's own (DICOM) scale is read again from the file

# Spec forms of sources/factory.py that are not paths (that layer sits above this module).
_DEVICE = re.compile(r"^(?:device:(\d+)|/dev/video(\d+))$")
_NAMED = re.compile(r"^(?:demo|sim|simulator|sim:[\w-]+|simulator:[\w-]+|igtl://.*)$")
_DICOM_SUFFIXES = (".dcm", ".dicom")


@dataclass
class SourceSettings:
    """What is remembered for one source; None: not remembered (the default applies).

    Attributes:
        label: how ``usguide config show`` names the source (never a DICOM file's name).
        roi: the user's image region, full-frame pixels.
        mm_per_px: the user's scale, and ``scale_source`` where it came from ("user": typed,
            "ruler": read off the screen's depth ruler).
        budget_ms: the latency budget.
        display_mode: one of ``usguide.defaults.DISPLAY_MODES``.
    """

    label: str = ""
    roi: Roi | None = None
    mm_per_px: float | None = None
    scale_source: str | None = None
    budget_ms: float | None = None
    display_mode: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing differs from the defaults (nothing worth remembering)."""
        return (
            self.roi is None
            and self.mm_per_px is None
            and self.budget_ms in (None, BUDGET_MS)
            and self.display_mode in (None, DISPLAY_MODES[0])
        )

    def describe(self) -> str:
        """The remembered values in words: ``region 10,20,300,200, scale 0.1 mm/px (ruler)``."""
        parts = []
        if self.roi is not None:
            parts.append("region " + ",".join(str(v) for v in self.roi.as_list()))
        if self.mm_per_px is not None:
            parts.append(f"scale {self.mm_per_px:.4g} mm/px ({self.scale_source or 'user'})")
        if self.budget_ms is not None:
            parts.append(f"budget {self.budget_ms:g} ms")
        if self.display_mode is not None:
            parts.append(f"display {self.display_mode}")
        return ", ".join(parts)

    def without(self, given: Iterable[str]) -> SourceSettings:
        """A copy without the values the command line gave: ``given`` names some of "roi",
        "scale", "budget_ms", "display_mode" (the command line wins)."""
        changes: dict[str, Any] = {}
        for name in given:
            if name == "scale":
                changes["mm_per_px"], changes["scale_source"] = None, None
            elif name in ("roi", "budget_ms", "display_mode"):
                changes[name] = None
            else:
                raise ValueError(f"not a remembered setting: {name!r}")
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["roi"] = self.roi.as_list() if self.roi is not None else None
        return {name: value for name, value in values.items() if value not in (None, "")}

    @classmethod
    def from_json(cls, data: Any, where: str) -> SourceSettings:
        """Reads one source's entry, checking every value.

        Raises:
            UsguideError: a value no usguide would have written.
        """
        if not isinstance(data, dict):
            raise UsguideError(f"{where} is not an object")
        roi = data.get("roi")
        if roi is not None:
            if not isinstance(roi, list) or len(roi) != 4:
                raise UsguideError(f"{where} roi is not four numbers")
            x, y, w, h = (check_number(v, f"{where} roi", low=0, integer=True) for v in roi)
            roi = Roi(x, y, w, h)
            if roi.w <= 0 or roi.h <= 0:
                raise UsguideError(f"{where} roi has no area")
        scale = data.get("mm_per_px")
        if scale is not None:
            scale = check_number(scale, f"{where} mm_per_px", low=MIN_MM_PER_PX, high=MAX_MM_PER_PX)
        source = data.get("scale_source")
        if source is not None and source not in REMEMBERED_SCALES:
            raise UsguideError(f"{where} scale_source is {source!r}")
        budget = data.get("budget_ms")
        if budget is not None:
            budget = check_number(budget, f"{where} budget_ms", low=0, high=MAX_BUDGET_MS)
        mode = data.get("display_mode")
        if mode is not None and mode not in DISPLAY_MODES:
            raise UsguideError(f"{where} display_mode is {mode!r}")
        label = data.get("label", "")
        return cls(str(label), roi, scale, source if scale is not None else None, budget, mode)


@dataclass
class Settings:
    """The whole file: per-source entries (oldest first), the window geometry and the salt that
    makes a DICOM file's key unguessable from its path."""

    sources: dict[str, SourceSettings] = field(default_factory=dict)
    window_geometry: bytes | None = None  # Qt's saveGeometry(), opaque here
    salt: str = ""

    def key(self, spec: str, backend: str = "any") -> tuple[str, str]:
        """The key and the label of a source spec (see ``source_key``); creates the salt."""
        if not self.salt:
            self.salt = secrets.token_hex(16)
        return source_key(spec, backend, self.salt)

    def remember(self, key: str, entry: SourceSettings) -> None:
        """Stores ``entry`` as the newest (forgets it when it holds only defaults)."""
        self.sources.pop(key, None)
        if not entry.empty:
            self.sources[key] = entry
        while len(self.sources) > MAX_SOURCES:
            self.sources.pop(next(iter(self.sources)))

    def to_json(self) -> dict[str, Any]:
        geometry = self.window_geometry
        return {
            "format": FORMAT,
            "salt": self.salt,
            "window": {"geometry": base64.b64encode(geometry).decode("ascii")} if geometry else {},
            "sources": {key: entry.to_json() for key, entry in self.sources.items()},
        }

    @classmethod
    def from_json(cls, data: Any, where: str, problems: list[str] | None = None) -> Settings:
        """Reads the whole file; a bad source entry or geometry is left out, and said why in
        ``problems``.

        Raises:
            UsguideError: the file as a whole is not a settings file.
        """
        if not isinstance(data, dict) or not isinstance(data.get("sources", {}), dict):
            raise UsguideError(f"{where} is not a usguide settings file")
        problems = [] if problems is None else problems
        settings = cls(salt=str(data.get("salt", "")))
        for key, entry in data.get("sources", {}).items():
            try:
                settings.sources[str(key)] = SourceSettings.from_json(entry, f"{where} {key!r}:")
            except UsguideError as exc:
                problems.append(str(exc))
        window = data.get("window")
        geometry = window.get("geometry") if isinstance(window, dict) else None
        if isinstance(geometry, str) and geometry:
            try:
                settings.window_geometry = base64.b64decode(geometry, validate=True)
            except ValueError:
                problems.append(f"{where} window geometry is not base64")
        return settings


def settings_dir() -> Path:
    """The folder of the settings file: ``USGUIDE_CONFIG_DIR``, else the platform's per-user
    configuration folder (``~/.config/usguide`` on Linux, ``~/Library/Application Support/usguide``
    on macOS, ``%LOCALAPPDATA%\\usguide`` on Windows)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("usguide", appauthor=False))


def source_key(spec: str, backend: str = "any", salt: str = "") -> tuple[str, str]:
    """The settings key of a source spec and the label ``config show`` prints for it.

    Devices are keyed by index and backend (``device:0 backend:any``); the demo, the simulator and
    OpenIGTLink streams by their spec; files and folders by their resolved path, except DICOM
    files, whose paths often hold patient names: those by a salted hash of the path.
    """
    device = _DEVICE.match(spec)
    if device:
        key = f"device:{device.group(1) or device.group(2)} backend:{backend}"
        return key, key
    if _NAMED.match(spec):
        return spec, spec
    path = Path(spec).expanduser().resolve()
    if _is_dicom(path):
        digest = hashlib.sha256(f"{salt}\n{path}".encode()).hexdigest()[:20]
        return f"dicom:{digest}", "a DICOM file"
    return f"file:{path}", str(path)


def _is_dicom(path: Path) -> bool:
    """A ``.dcm`` name or the ``DICM`` marker at byte 128 (read without pydicom)."""
    if path.suffix.lower() in _DICOM_SUFFIXES:
        return True
    try:
        with path.open("rb") as file:
            return file.read(132)[128:] == b"DICM"
    except OSError:
        return False


class SettingsStore:
    """Reads and writes the settings file; every read is fresh (another usguide may have written).

    A missing file gives the defaults; a damaged or unreadable one gives the defaults and one
    warning line. Writes go to a temporary file then replace the old one, so a crash leaves the
    old or the new file, never half of one.

    Args:
        path: the settings file (default: ``settings_dir() / "settings.json"``).
        read_only: never write (e.g. ``usguide run --screenshot``: automation leaves no trace).
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path if path is not None else settings_dir() / FILE_NAME
        self.read_only = read_only
        self._warned = False

    def load(self) -> Settings:
        """The settings in the file, or the defaults (one warning when the file is damaged)."""
        try:
            if not self.path.exists():
                return Settings()
            if self.path.stat().st_size > MAX_FILE_BYTES:
                raise UsguideError(f"{self.path} is larger than {MAX_FILE_BYTES} bytes")
            text = self.path.read_text(encoding="utf-8")
            problems: list[str] = []
            settings = Settings.from_json(load_json(text, str(self.path)), str(self.path), problems)
        except (OSError, UnicodeDecodeError, UsguideError) as exc:
            reason = exc if isinstance(exc, UsguideError) else f"cannot read {self.path}: {exc}"
            self._warn(f"settings not used (defaults instead): {reason}")
            return Settings()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self._warn(f"some remembered settings left out: {problems[0]}{more}")
        return settings

    def _warn(self, message: str) -> None:
        """One warning per store: the file is read at every source opened and at the end."""
        if not self._warned:
            self._warned = True
            log.warning("%s", message)

    def save(self, settings: Settings) -> None:
        """Writes ``settings`` atomically (temporary file, then replace).

        Raises:
            UsguideError: the folder cannot be created or written.
        """
        if self.read_only:
            return
        text = _dump(settings.to_json())
        folder = self.path.parent
        temporary: str | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
            temporary = None
        except OSError as exc:
            raise UsguideError(
                f"cannot write the settings file {self.path} ({exc.strerror or exc}) — check the "
                f"folder is writable, or set {ENV_DIR} to another folder"
            ) from None
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def update(self, change: Callable[[Settings], None]) -> bool:
        """Reads the file, applies ``change``, writes it back; a failed write is one warning.

        Returns:
            True when the file was written.
        """
        if self.read_only:
            return False
        settings = self.load()
        change(settings)
        try:
            self.save(settings)
        except UsguideError as exc:
            log.warning("settings not saved: %s", exc)
            return False
        return True

    def recall(self, spec: str, backend: str = "any", given: Iterable[str] = ()) -> SourceSettings:
        """What is remembered for ``spec`` (an empty entry when nothing is), less the values the
        command line gave (``given``: see ``SourceSettings.without``)."""
        settings = self.load()
        key, label = settings.key(spec, backend)
        return settings.sources.get(key, SourceSettings(label=label)).without(given)

    def remember(self, spec: str, backend: str, entry: SourceSettings) -> bool:
        """Stores ``entry`` for ``spec`` (its label set here); True when written."""

        def change(settings: Settings) -> None:
            key, label = settings.key(spec, backend)
            settings.remember(key, dataclasses.replace(entry, label=label))

        return self.update(change)

    def reset(self, spec: str | None = None, backend: str = "any") -> bool:
        """Forgets one source, or everything (the file is deleted); True when something was.

        Raises:
            UsguideError: the file cannot be deleted or written.
        """
        if spec is None:
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise UsguideError(f"cannot delete {self.path} ({exc.strerror or exc})") from None
            return True
        settings = self.load()
        key, _label = settings.key(spec, backend)
        if settings.sources.pop(key, None) is None:
            return False
        self.save(settings)
        return True


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"
