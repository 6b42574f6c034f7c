"""The container image copies every package the service is made of (checked without building it: the build itself
runs in tests/test_container.py, which only `python3 manage.py test-container` runs)."""

import re

from tests.conftest import ROOT

NOT_IN_THE_IMAGE = {"tests", "bench"}


def test_every_package_of_the_service_is_copied_into_the_image():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - NOT_IN_THE_IMAGE
    containerfile = (ROOT / "Containerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", containerfile, flags=re.MULTILINE))
    allowed = set(re.findall(r"^!(\w+)/$", (ROOT / ".dockerignore").read_text(encoding="utf-8"), re.MULTILINE))
    assert packages, "no packages found"
    assert packages <= copied, f"not copied into the image: {sorted(packages - copied)}"
    assert packages <= allowed, f"left out of the build context by .dockerignore: {sorted(packages - allowed)}"
