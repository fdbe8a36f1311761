"""Make the project's module_utils and modules importable as Ansible loads them."""

import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Before Ansible reads its configuration: the project's plugins, and no state in ~/.ansible.
os.environ.setdefault("ANSIBLE_FILTER_PLUGINS", str(PROJECT / "filter_plugins"))
os.environ.setdefault("ANSIBLE_HOME", str(PROJECT / ".ansible"))

import ansible.module_utils

ansible.module_utils.__path__.append(str(PROJECT / "module_utils"))
sys.path.insert(0, str(PROJECT / "library"))
sys.path.insert(0, str(PROJECT / "filter_plugins"))

FIXTURES = PROJECT / "tests" / "fixtures"
