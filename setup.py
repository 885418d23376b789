"""Build hook: puts the bundled model(s) and demo recording into the wheel as ``usguide/_data/``.

The repository keeps one copy of them, at the top level (``models/``, ``recordings/demo/``);
this ``build`` sub-command copies them into the package at build time, and lists them as sources
so the sdist carries them too (a wheel built from the sdist then finds them). In an editable
install it copies nothing: ``usguide.paths`` falls back to the repository's files. Everything
else is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build

ROOT = Path(__file__).resolve().parent
BUNDLED_DIR = "usguide/_data"  # usguide.paths.BUNDLED_DIR, inside the package
MODELS = ("models/needle.onnx", "models/needle_int8.onnx", "models/README.md")
DEMO = "recordings/demo"  # every file directly in it


def bundled_files() -> list[str]:
    """Repository-relative paths of the files the wheel carries (forward slashes)."""
    demo = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / DEMO).glob("*") if p.is_file())
    return [name for name in MODELS if (ROOT / name).is_file()] + demo


class BuildBundledData(Command):
    """Copies the bundled files into ``<build_lib>/usguide/_data/`` (same relative layout)."""

    description = "copy the bundled model(s) and demo recording into the package"
    user_options: list = []

    def initialize_options(self) -> None:
        self.build_lib = None
        self.editable_mode = False

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def get_source_files(self) -> list[str]:
        return bundled_files()

    def get_output_mapping(self) -> dict[str, str]:
        if self.editable_mode:
            return {}
        return {str(Path(self.build_lib, BUNDLED_DIR, name)): name for name in bundled_files()}

    def get_outputs(self) -> list[str]:
        return list(self.get_output_mapping())

    def run(self) -> None:
        for target, source in self.get_output_mapping().items():
            self.mkpath(str(Path(target).parent))
            self.copy_file(source, target)


class Build(build):
    sub_commands = build.sub_commands + [("build_bundled_data", None)]


setup(cmdclass={"build": Build, "build_bundled_data": BuildBundledData})
