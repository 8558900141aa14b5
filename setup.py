"""Installing compiles the translation catalogs (text/locale/*/LC_MESSAGES/*.po) into
the .mo files gettext reads; everything else is in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for source in Path("text/locale").glob("*/LC_MESSAGES/*.po"):
            language = source.parts[2]
            target = Path(self.build_lib) / source.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as po:
                catalog = read_po(po, locale=language)
            with target.open("wb") as mo:
                write_mo(mo, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
