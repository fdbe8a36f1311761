"""docs/security.md's Redis ACL line is the one the test bed's datastore host gives its monitoring user.

The scenario facts_datastores proves that the test bed's ACL (roles/demo_target/vars/main.yml) is
enough for the modules and that dropping any one of its commands gives a reason naming it; this
test ties the line operators copy from the docs to that ACL, so the two cannot drift apart.
"""

import re

import yaml
from conftest import PROJECT

DOCS = (PROJECT / "docs" / "security.md").read_text(encoding="utf-8")
DEMO = PROJECT / "roles" / "demo_target"
ACL = yaml.safe_load((DEMO / "vars" / "main.yml").read_text())["demo_target_redis_monitor_acl"]
MONITOR_USER = yaml.safe_load((DEMO / "defaults" / "main.yml").read_text())["demo_target_datastore_redis_monitor_user"]


def acl_lines() -> list[str]:
    """The `user ...` lines of the docs' code blocks: the ACL lines an operator copies."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", DOCS, re.MULTILINE | re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith("user ")]


def test_the_docs_give_one_acl_line_and_it_is_the_test_bed_s():
    assert acl_lines() == [f"user {MONITOR_USER} on >MONITOR_PASSWORD {ACL}"]


def test_the_docs_explain_each_command_the_acl_allows():
    allowed = [rule for rule in ACL.split() if rule.startswith("+")]
    assert allowed, ACL
    explained = DOCS[DOCS.index(acl_lines()[0]):]
    missing = [rule for rule in allowed if f"`{rule}" not in explained and f" {rule}`" not in explained]
    assert not missing, f"docs/security.md does not say why the ACL allows {missing}"


def test_the_docs_name_the_monitoring_user_the_role_is_given():
    assert f"baseline_redis_username: {MONITOR_USER}" in DOCS
