"""Each role describes its variables once, in meta/argument_specs.yml: Ansible validates the input
against it and ansible-doc prints it; the README's table is generated from it, and defaults/main.yml
holds the values only."""

import subprocess
import sys

import pytest
import yaml
from conftest import PROJECT

ROLES = sorted(p.name for p in (PROJECT / "roles").iterdir() if (p / "defaults" / "main.yml").is_file())


def options(role):
    return yaml.safe_load((PROJECT / "roles" / role / "meta" / "argument_specs.yml").read_text())[
        "argument_specs"]["main"]["options"]


def defaults(role):
    return yaml.safe_load((PROJECT / "roles" / role / "defaults" / "main.yml").read_text())


@pytest.mark.parametrize("role", ROLES)
def test_readme_has_the_current_variables_table(role):
    table = subprocess.run([sys.executable, str(PROJECT / "scripts" / "role-readme"), str(PROJECT / "roles" / role)],
                           capture_output=True, text=True, check=True).stdout.strip()
    readme = (PROJECT / "roles" / role / "README.md").read_text()
    assert table in readme, f"roles/{role}/README.md: regenerate its table with scripts/role-readme roles/{role}"


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_describe_each_default(role):
    specs = options(role)
    assert set(defaults(role)) == set(specs)
    assert [name for name, spec in specs.items() if not spec.get("description")] == []


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_show_the_default_the_role_sets(role):
    """A default that is not a template is shown as it is; a template's is told in words."""
    specs = options(role)
    differ = {name: (value, specs[name]["default"]) for name, value in defaults(role).items()
              if "default" in specs[name] and "{{" not in str(value) and specs[name]["default"] != value}
    assert differ == {}


@pytest.mark.parametrize("role", ROLES)
def test_defaults_hold_no_second_description(role):
    lines = (PROJECT / "roles" / role / "defaults" / "main.yml").read_text().splitlines()
    comments = [line for line in lines[3:] if line.lstrip().startswith("#")]
    assert lines[1].startswith("# Described in meta/argument_specs.yml") and comments == []
