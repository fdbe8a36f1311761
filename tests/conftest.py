"""Make the project's module_utils and modules importable as Ansible loads them."""

import sys
from pathlib import Path

import ansible.module_utils

PROJECT = Path(__file__).resolve().parent.parent
ansible.module_utils.__path__.append(str(PROJECT / "module_utils"))
sys.path.insert(0, str(PROJECT / "library"))
sys.path.insert(0, str(PROJECT / "filter_plugins"))

FIXTURES = PROJECT / "tests" / "fixtures"
