"""nginx's syntax and the live colour, on a corpus of real-world include shapes (tests/fixtures/nginx).

The corpus index (corpus.yml) names each file's source and the colour (or the reason) expected.
The tokenizer is checked against crossplane, nginx's own configuration parser in Python.
"""

import crossplane
import pytest
import yaml
from ansible.module_utils import baseline_nginx as nginx
from conftest import FIXTURES

CORPUS_DIR = FIXTURES / "nginx"
CORPUS = yaml.safe_load((CORPUS_DIR / "corpus.yml").read_text())
PORTS = {"blue": 8001, "green": 8002}
OTHER = {"blue": "green", "green": "blue"}
SERVICE = "tsh_erp"


def text_of(entry):
    return (CORPUS_DIR / entry["file"]).read_bytes().decode()  # CRLF kept, as nginx reads it


def ports_of(entry):
    return entry.get("color_ports", PORTS)


def ids(entries):
    return [e["file"] for e in entries]


COLOURED = [e for e in CORPUS if "color" in e]


def test_the_corpus_holds_at_least_20_shapes_each_with_its_source():
    files = sorted(p.name for p in CORPUS_DIR.glob("*.conf"))
    assert files == sorted(ids(CORPUS))
    assert len(files) >= 20
    assert all(e.get("source") and ("color" in e) != ("reason" in e) for e in CORPUS)


@pytest.mark.parametrize("entry", CORPUS, ids=ids(CORPUS))
def test_the_live_colour_or_the_reason_of_each_shape(entry):
    expected = (entry.get("color", ""), " ".join(entry.get("reason", "").split()))
    assert nginx.live_color(text_of(entry), ports_of(entry), SERVICE) == expected


@pytest.mark.parametrize("entry", CORPUS, ids=ids(CORPUS))
def test_the_tokenizer_finds_the_directives_crossplane_finds(entry, tmp_path):
    path = tmp_path / entry["file"]
    path.write_bytes((CORPUS_DIR / entry["file"]).read_bytes())
    payload = crossplane.parse(str(path), single=True, strict=False, check_ctx=False, check_args=False,
                               comments=False)
    assert payload["errors"] == []

    def theirs(parsed):  # crossplane leaves some comments in as '#' directives even with comments=False
        return [(d["directive"], d["args"], theirs(d["block"]) if "block" in d else None)
                for d in parsed if d["directive"] != "#"]

    def ours(directives):
        return [(d.name.value, d.words, ours(d.block) if d.block is not None else None) for d in directives]

    assert ours(nginx.parse(text_of(entry))[0]) == theirs(payload["config"][0]["parsed"])


@pytest.mark.parametrize("entry", CORPUS, ids=ids(CORPUS))
def test_comments_are_found_as_crossplane_finds_them(entry, tmp_path):
    path = tmp_path / entry["file"]
    path.write_bytes((CORPUS_DIR / entry["file"]).read_bytes())
    tokens = [t for t, _, quoted in crossplane.lex(str(path)) if not quoted and t.startswith("#")]
    assert [c.text for c in nginx.parse(text_of(entry))[1]] == [t[1:].rstrip("\r") for t in tokens]


@pytest.mark.parametrize("entry", COLOURED, ids=ids(COLOURED))
def test_a_switch_and_back_of_each_shape(entry):
    text, ports, live = text_of(entry), ports_of(entry), entry["color"]
    switched = nginx.switch(text, ports, live, OTHER[live], SERVICE)
    assert nginx.live_color(switched, ports, SERVICE) == (OTHER[live], "")
    # Only words changed: the comments (color= marks aside) and the directives' shape are kept.
    before, after = nginx.parse(text), nginx.parse(switched)
    assert [nginx.COLOR_MARK.sub("", c.text) for c in after[1]] == [nginx.COLOR_MARK.sub("", c.text) for c in before[1]]
    assert [d.name.value for d in nginx.walk(after[0])] == [d.name.value for d in nginx.walk(before[0])]
    assert nginx.switch(switched, ports, OTHER[live], live, SERVICE) == text


@pytest.mark.parametrize("entry", COLOURED, ids=ids(COLOURED))
def test_a_switch_never_leaves_the_new_colour_backup_or_down(entry):
    ports, new = ports_of(entry), OTHER[entry["color"]]
    switched = nginx.switch(text_of(entry), ports, entry["color"], new, SERVICE)
    addresses = nginx.color_addresses(ports)
    target = nginx._find_target(nginx.parse(switched)[0], addresses, SERVICE)
    if target.upstream is not None:
        servers = [s for s in nginx._servers(target.upstream) if nginx._colors_of(s.address, addresses) == [new]]
        assert servers
        assert all(s.live for s in servers), [s.address_token.value for s in servers]


NO_COLOUR = [e for e in CORPUS if "reason" in e]


@pytest.mark.parametrize("entry", NO_COLOUR, ids=ids(NO_COLOUR))
@pytest.mark.parametrize("live", ["blue", "green"])
def test_a_shape_that_names_no_colour_is_refused_with_what_it_names(entry, live):
    with pytest.raises(ValueError) as refused:
        nginx.switch(text_of(entry), ports_of(entry), live, OTHER[live], SERVICE)
    assert str(refused.value) == " ".join(entry["reason"].split())


def test_a_switch_keeps_the_flags_in_place_and_moves_the_old_colour_to_the_backup():
    text = "upstream b {\n  server 127.0.0.1:8001 max_fails=1 fail_timeout=30s;\n  server 127.0.0.1:8002 backup; }"
    assert nginx.switch(text, PORTS, "blue", "green") == (
        "upstream b {\n  server 127.0.0.1:8002 max_fails=1 fail_timeout=30s;\n  server 127.0.0.1:8001 backup; }")


def test_a_switch_keeps_the_host_spelling_and_the_quotes():
    assert nginx.switch('upstream a { server "[::1]:8001"; }', PORTS, "blue", "green") == (
        'upstream a { server "[::1]:8002"; }')
    assert nginx.switch("upstream a { server localhost; }", {"blue": 80, "green": 8002}, "blue", "green") == (
        "upstream a { server localhost:8002; }")


def test_a_switch_by_a_selector_names_the_other_upstream():
    text = ("upstream b { server 127.0.0.1:8001; }\nupstream g { server 127.0.0.1:8002; }\n"
            "server { location / { proxy_pass http://b/api; } location /x { proxy_pass http://b; } }\n")
    assert nginx.switch(text, PORTS, "blue", "green") == text.replace("http://b", "http://g")


@pytest.mark.parametrize(("text", "message"), [
    ("upstream a { server 127.0.0.1:8001 }",
     'unexpected "}" on line 1: the directive "server" is not terminated by ";"'),
    ("upstream a { server 127.0.0.1:8001;", 'unexpected end of file, expecting ";" or "}"'),
    ("}\n", 'unexpected "}" on line 1'),
    ("upstream a {\n ; }", 'unexpected ";" on line 2'),
    ('upstream a { server "127.0.0.1:8001', "unexpected end of file in the quoted string that starts on line 1"),
    ('upstream a { server "127.0.0.1:8001"x; }', 'unexpected "x" after the quoted string on line 1'),
])
def test_syntax_errors_say_what_and_where(text, message):
    with pytest.raises(nginx.NginxSyntaxError) as raised:
        nginx.parse(text)
    assert str(raised.value) == message
    assert nginx.live_color(text, PORTS) == ("", f"the file is not valid nginx syntax: {message}")


def test_the_tokenizer_reads_words_as_nginx_does():
    tree, comments = nginx.parse('a b#c "d\\"e" \'f\\\\\' ${g}h\\;i;#j\r\nk{l;}')
    assert [(d.name.value, d.words) for d in nginx.walk(tree)] == [
        ("a", ["b#c", 'd"e', "f\\", "${g}h\\;i"]), ("k", []), ("l", [])]
    assert [c.text for c in comments] == ["j"]


@pytest.mark.parametrize(("spec", "address"), [
    (8001, nginx.Address("127.0.0.1", 8001)),
    ("8002", nginx.Address("127.0.0.1", 8002)),
    ("unix:/run/b.sock", nginx.Address(unix="/run/b.sock")),
    ("[::1]:8001", nginx.Address("::1", 8001)),
    ("App-Blue:3000", nginx.Address("app-blue", 3000)),
])
def test_a_colour_is_a_port_or_an_address(spec, address):
    assert nginx.color_address(spec) == address


@pytest.mark.parametrize("spec", [True, None, "unix:", "host:port", "$upstream", [8001]])
def test_a_colour_that_is_no_address_is_refused(spec):
    with pytest.raises(ValueError, match="not a port or an address"):
        nginx.color_address(spec)


def test_a_colour_given_as_an_address_is_matched_as_written():
    text = "upstream api { server app_green:3000; server app_blue:3000 backup; }"
    assert nginx.live_color(text, {"blue": "app_blue:3000", "green": "app_green:3000"}) == ("green", "")
    assert nginx.live_color(text, PORTS)[1] == (
        "the upstream api names app_green:3000, which is no colour's address"
        " (blue: 127.0.0.1:8001, green: 127.0.0.1:8002)")
    assert nginx.local_port("app_blue:3000") == 0
    assert nginx.local_port("localhost:8001") == 8001
    assert nginx.local_port("unix:/run/b.sock") == 0


# /proc of a demo target's nginx (master 52, workers 53 and 54, and systemd), captured with podman exec
# (its uptime was 1348.72 s); the boot put at a fixed wall-clock time.
PROC = CORPUS_DIR / "proc"
BOOT = 1_800_000_000.0


def proc_copy(tmp_path, drop=(), titles=None, extra=None):
    """The captured /proc with processes dropped, retitled ({pid: title}) or added ({pid: (stat, title)})."""
    import shutil

    root = tmp_path / "proc"
    shutil.copytree(PROC, root)
    for pid in drop:
        shutil.rmtree(root / str(pid))
    for pid, title in (titles or {}).items():
        (root / str(pid) / "cmdline").write_bytes(title.encode() + b"\0")
    for pid, (stat, title) in (extra or {}).items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(stat)
        (root / str(pid) / "cmdline").write_bytes(title.encode() + b"\0")
    return str(root)


def test_nginx_last_loaded_when_its_current_workers_started():
    # The workers started 131202 ticks (100 a second) after the boot.
    loaded, why = nginx.nginx_loaded_at(str(PROC), boot_s=BOOT)
    assert (round(loaded, 2), why) == (round(BOOT + 1312.02, 2), "")


def test_workers_shutting_down_after_a_reload_are_not_the_last_load(tmp_path):
    stat = (PROC / "53" / "stat").read_text().replace("53 (nginx)", "61 (nginx)").replace(" 131202 ", " 134000 ")
    root = proc_copy(tmp_path, titles={53: "nginx: worker process is shutting down",
                                       54: "nginx: worker process is shutting down"},
                     extra={61: (stat, "nginx: worker process")})
    loaded, why = nginx.nginx_loaded_at(root, boot_s=BOOT)
    assert (round(loaded, 2), why) == (round(BOOT + 1340.00, 2), "")


@pytest.mark.parametrize(("change", "reason"), [
    ({"drop": [52, 53, 54]},
     "no nginx master process is seen in {root} (nginx is not running,"
     " or {root} hides other users' processes: hidepid)"),
    ({"drop": [53, 54]}, "nginx's master process (PID 52) has no current worker process"),
    ({"extra": {70: ("70 (nginx) S 1 70 70 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0",
                     "nginx: master process /usr/sbin/nginx -c /etc/nginx/other.conf")}},
     "several nginx master processes run (PIDs 52, 70)"),
])
def test_a_last_load_that_cannot_be_told_says_why(tmp_path, change, reason):
    root = proc_copy(tmp_path, **change)
    assert nginx.nginx_loaded_at(root, boot_s=BOOT) == (None, reason.format(root=root))


def test_an_include_changed_after_the_last_load_is_told(tmp_path):
    import os

    include = tmp_path / "tsh_erp-upstream.conf"
    include.write_text("upstream tsh_erp { server 127.0.0.1:8002; }\n")
    loaded = BOOT + 1312.02
    os.utime(include, (loaded - 60,) * 2)
    before = nginx.include_state(str(include), str(PROC), BOOT)
    os.utime(include, (loaded + 10,) * 2)
    after = nginx.include_state(str(include), str(PROC), BOOT)
    assert (before["changed_after_load"], after["changed_after_load"]) == (False, True)
    assert after["modified_at"] > after["loaded_at"] and after["loaded_at_error"] == ""
    missing = nginx.include_state(str(tmp_path / "gone.conf"), str(PROC), BOOT)
    assert missing["changed_after_load"] is None
    assert missing["loaded_at_error"] == f"unable to read {tmp_path / 'gone.conf'}: No such file or directory"


# Any whitespace or none between tokens, and comments wherever a token may start: the same
# directives and the same colour, whatever the layout.
SEPARATORS = ["", " ", "\t", "\r\n", "\n", "  \n# a comment; { } 'quote\n", " #\r\n"]


def relayout(text, choose):
    """The text's tokens (comments dropped) joined by separators drawn by choose(needs_space)."""
    tokens = [t for t in nginx.tokenize(text) if isinstance(t, nginx.Token)]

    def word(t):
        return t is not None and not any(nginx._is_punct(t, c) for c in ";{}")

    out = []
    for before, token in zip([None, *tokens], tokens, strict=False):
        needs_space = (word(before) and word(token)) or (before is not None and bool(before.quote))
        out.append(choose(needs_space) + text[token.start:token.end])
    return "".join(out)


@pytest.mark.parametrize("entry", COLOURED, ids=ids(COLOURED))
def test_any_layout_of_a_shape_reads_the_same(entry):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    text, ports = text_of(entry), ports_of(entry)

    @settings(max_examples=30, deadline=None)
    @given(st.randoms(use_true_random=False))
    def check(rng):
        def choose(needs_space):
            options = [s for s in SEPARATORS if s] if needs_space else SEPARATORS
            return rng.choice(options)

        laid_out = relayout(text, choose)
        assert [(d.name.value, d.words) for d in nginx.walk(nginx.parse(laid_out)[0])] == [
            (d.name.value, d.words) for d in nginx.walk(nginx.parse(text)[0])]
        assert nginx.live_color(laid_out, ports, SERVICE) == (entry["color"], "")
        assert nginx.live_color(nginx.switch(laid_out, ports, entry["color"], OTHER[entry["color"]], SERVICE),
                                ports, SERVICE) == (OTHER[entry["color"]], "")

    check()
