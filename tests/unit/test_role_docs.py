"""Each role documents every variable of its defaults, in its README and its argument specs."""

import subprocess
import sys

import pytest
import yaml
from conftest import PROJECT

ROLES = sorted(p.name for p in (PROJECT / "roles").iterdir() if (p / "defaults" / "main.yml").is_file())


@pytest.mark.parametrize("role", ROLES)
def test_readme_has_the_current_variables_table(role):
    table = subprocess.run([sys.executable, str(PROJECT / "scripts" / "role-readme"), str(PROJECT / "roles" / role)],
                           capture_output=True, text=True, check=True).stdout.strip()
    readme = (PROJECT / "roles" / role / "README.md").read_text()
    assert table in readme, f"roles/{role}/README.md: regenerate its table with scripts/role-readme roles/{role}"


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_cover_the_defaults(role):
    defaults = yaml.safe_load((PROJECT / "roles" / role / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((PROJECT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    assert set(defaults) == set(specs["argument_specs"]["main"]["options"])
