"""Ship the reference workspace and templates inside the package (mevops/_reference).

The repository keeps them at the top level (chains/ config/ environments/ mev/
infrastructure/ templates/) where operators read them; a wheel must carry them too.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("chains", "config", "environments", "mev", "infrastructure", "templates")


class BuildWithReference(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads them from the checkout
        target = Path(self.build_lib) / "mevops" / "_reference"
        for name in SHIPPED:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithReference})
