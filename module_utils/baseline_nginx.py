"""nginx's configuration syntax, and the live colour of a blue/green pair in an upstream include.

Standard library only: it runs on the target inside baseline_facts, and on the controller in the
filters (filter_plugins/baseline.py, filter_plugins/bluegreen.py).

The tokenizer follows nginx's own reader (ngx_conf_read_token in src/core/ngx_conf_file.c): words
split by any whitespace (CR included), `;` `{` `}` outside words, `#` comments from the start of a
word to the end of the line, single or double quotes at the start of a word with backslash escapes,
`${name}` inside a word. Each token keeps its place in the text, so a switch edits tokens and keeps
everything else (comments, layout, other upstreams) byte for byte.
"""

from __future__ import annotations

import ipaddress
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

SPACE = " \t\r\n"
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 80
# The colour marks a switch moves along with the address (as the demo role writes them).
COLOR_MARK = re.compile(r"\bcolor=([\w-]+)")
# A host name or an IP address; [IPv6] is checked by ipaddress.
_HOST = re.compile(r"^[A-Za-z0-9_.:-]+$")


class NginxSyntaxError(ValueError):
    """The text is not valid nginx syntax; the message says what and on which line."""


@dataclass
class Token:
    value: str  # as nginx reads it: quotes removed, escapes resolved
    start: int  # the raw token's span in the text, quotes included
    end: int
    line: int
    quote: str = ""


@dataclass
class Comment:
    text: str  # without the leading '#'
    start: int
    end: int
    line: int


@dataclass
class Directive:
    name: Token
    args: list[Token]
    block: list[Directive] | None = None
    end: int = 0  # offset after its ';' or closing '}'

    @property
    def words(self) -> list[str]:
        return [a.value for a in self.args]


def _unescape(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in "\"'\\":
                out.append(nxt)
                i += 2
                continue
            if nxt in "trn":
                out.append({"t": "\t", "r": "\r", "n": "\n"}[nxt])
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[Token | Comment]:
    """The tokens of nginx's syntax, in order: words and the punctuation ; { } as Token, comments as Comment.

    Punctuation is an unquoted Token of one character ';', '{' or '}': no word can be one (a word
    that reads ';' is quoted, and an unquoted word ends before ; and {).
    """
    found: list = []
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch in SPACE:
            line += ch == "\n"
            i += 1
            continue
        if ch == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            found.append(Comment(text[i + 1:end].rstrip("\r"), i, end, line))
            i = end
            continue
        if ch in ";{}":
            found.append(Token(ch, i, i + 1, line))
            i += 1
            continue
        start, start_line = i, line
        if ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    line += 1
                j += 1
            if j >= n:
                raise NginxSyntaxError(f"unexpected end of file in the quoted string that starts on line {start_line}")
            found.append(Token(_unescape(text[i + 1:j]), start, j + 1, start_line, ch))
            i = j + 1
            if i < n and text[i] not in SPACE + ";{)":
                raise NginxSyntaxError(f'unexpected "{text[i]}" after the quoted string on line {line}')
            continue
        j, variable = i, False
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "{" and variable:
                close = text.find("}", j)
                j = n if close < 0 else close + 1
                variable = False
                continue
            variable = c == "$"
            if c in SPACE + ";{":
                break
            j += 1
        j = min(j, n)
        found.append(Token(_unescape(text[i:j]), start, j, start_line))
        i = j
    return found


def _is_punct(token, char: str) -> bool:
    return isinstance(token, Token) and not token.quote and token.end - token.start == 1 and token.value == char


def parse(text: str) -> tuple[list[Directive], list[Comment]]:
    """The directives of a configuration text (blocks nested) and its comments."""
    root: list[Directive] = []
    stack: list[tuple[list[Directive], Directive | None]] = [(root, None)]
    comments: list[Comment] = []
    words: list[Token] = []
    for token in tokenize(text):
        if isinstance(token, Comment):
            comments.append(token)
        elif _is_punct(token, ";") or _is_punct(token, "{"):
            if not words:
                raise NginxSyntaxError(f'unexpected "{token.value}" on line {token.line}')
            directive = Directive(words[0], words[1:], end=token.end)
            stack[-1][0].append(directive)
            if token.value == "{":
                directive.block = []
                stack.append((directive.block, directive))
            words = []
        elif _is_punct(token, "}"):
            if words:
                raise NginxSyntaxError(f'unexpected "}}" on line {token.line}: the directive "{words[0].value}"'
                                       ' is not terminated by ";"')
            if len(stack) == 1:
                raise NginxSyntaxError(f'unexpected "}}" on line {token.line}')
            stack.pop()[1].end = token.end
        else:
            words.append(token)
    if words or len(stack) > 1:
        raise NginxSyntaxError('unexpected end of file, expecting ";" or "}"')
    return root, comments


def walk(directives: list[Directive]):
    """Every directive, blocks' contents included, in the order of the text."""
    for d in directives:
        yield d
        if d.block:
            yield from walk(d.block)


@dataclass(frozen=True)
class Address:
    """Where a colour listens: TCP host and port, or a unix socket path."""
    host: str = ""
    port: int = 0
    unix: str = ""

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def matches(self, other: Address) -> bool:
        if self.unix or other.unix:
            return self.unix == other.unix
        return self.port == other.port and (
            self.host == other.host or (self.is_loopback() and other.is_loopback()))


def parse_address(text: str) -> Address | None:
    """An nginx server address (HOST, HOST:PORT, [IPV6]:PORT, unix:PATH); None when not one."""
    if text.startswith("unix:"):
        return Address(unix=text[5:]) if len(text) > 5 else None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "" if not rest else None
    else:
        host, _, port = text.partition(":")
    if port is None or (port and not port.isdigit()) or not _HOST.match(host):
        return None
    if text.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return Address(host.lower(), int(port) if port else DEFAULT_PORT)


def color_address(spec) -> Address:
    """A colour's address from its entry in color_ports: a port (int or digits) on the loopback, or an address."""
    if isinstance(spec, bool):
        raise ValueError(f"not a port or an address: {spec!r}")
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return Address(LOOPBACK, int(spec))
    address = parse_address(str(spec)) if isinstance(spec, str) else None
    if address is None:
        raise ValueError(f"not a port or an address: {spec!r}")
    return address


def color_addresses(color_ports: dict) -> dict[str, Address]:
    return {color: color_address(spec) for color, spec in sorted(color_ports.items())}


def local_port(spec) -> int:
    """The colour's port on this host (its local probe's), 0 for a unix socket or another host."""
    address = color_address(spec)
    return address.port if not address.unix and address.is_loopback() else 0


@dataclass
class Server:
    directive: Directive
    address_token: Token
    address: Address | None
    flags: set = field(default_factory=set)

    @property
    def live(self) -> bool:
        return not self.flags & {"backup", "down"}


def _servers(upstream: Directive) -> list[Server]:
    found = []
    for d in upstream.block or []:
        if d.name.value == "server" and d.args:
            flags = {a.value for a in d.args[1:] if "=" not in a.value}
            found.append(Server(d, d.args[0], parse_address(d.args[0].value), flags))
    return found


def _colors_of(address: Address | None, colors: dict[str, Address]) -> list[str]:
    return [c for c, a in colors.items() if address is not None and a.matches(address)]


@dataclass
class _Target:
    """What proxies the service: an upstream (maybe chosen by selector tokens) or a direct address.

    selectors and direct hold (token, span): the span of the upstream's name or of the address
    inside the token's value (a proxy_pass URL, a map's default).
    """
    upstream: Directive | None = None
    selectors: list = field(default_factory=list)
    direct: list = field(default_factory=list)

    @property
    def key(self) -> str:
        if self.upstream is not None:
            return self.upstream.args[0].value
        token, (start, end) = self.direct[0]
        return token.value[start:end]


def _url_host(url: str) -> tuple[int, int] | None:
    """The span of the host part (HOST[:PORT] or unix:PATH) of an http(s) URL, or None."""
    match = re.match(r"(?i)(?:https?|grpcs?)://", url)
    if not match:
        return None
    start = match.end()
    if url[start:].startswith("unix:"):
        end = url.find(":", start + 5)
        return start, len(url) if end < 0 else end
    end = start
    while end < len(url) and url[end] not in "/?":
        end += 1
    return start, end


def _direct_address(host: str) -> Address | None:
    """A proxy_pass host that is an address by itself: a unix socket, HOST:PORT, or an IP (not a bare name)."""
    address = parse_address(host)
    explicit_port = "]:" in host if host.startswith("[") else ":" in host
    if address is None or address.unix or explicit_port or address.host == "localhost":
        return address
    try:
        ipaddress.ip_address(address.host)
    except ValueError:
        return None
    return address


def _describe(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _upstreams(tree: list[Directive]) -> dict[str, Directive]:
    return {d.args[0].value: d for d in walk(tree) if d.name.value == "upstream" and d.args and d.block is not None}


def _find_target(tree: list[Directive], colors: dict[str, Address], service: str) -> _Target | str:
    upstreams = _upstreams(tree)
    if service and service in upstreams:
        return _Target(upstreams[service])
    maps = {d.args[1].value: d for d in walk(tree) if d.name.value == "map" and len(d.args) >= 2 and d.block}
    targets: dict[str, _Target] = {}
    for d in walk(tree):
        if d.name.value not in ("proxy_pass", "grpc_pass") or not d.args:
            continue
        token = d.args[0]
        span = _url_host(token.value)
        if span is None:
            continue
        host = token.value[span[0]:span[1]]
        if host in maps:
            default = next((e.args[0] for e in maps[host].block if e.name.value == "default" and e.args), None)
            if default is not None and default.value in upstreams:
                found = targets.setdefault(default.value, _Target(upstreams[default.value]))
                found.selectors.append((default, (0, len(default.value))))
        elif host in upstreams:
            targets.setdefault(host, _Target(upstreams[host])).selectors.append((token, span))
        elif _direct_address(host) is not None:
            targets.setdefault(host, _Target()).direct.append((token, span))
    if not targets:
        # A map whose default names an upstream, its proxy_pass $variable in another file.
        for d in maps.values():
            default = next((e.args[0] for e in d.block if e.name.value == "default" and e.args), None)
            if default is not None and default.value in upstreams:
                found = targets.setdefault(default.value, _Target(upstreams[default.value]))
                found.selectors.append((default, (0, len(default.value))))
    if len(targets) == 1:
        return next(iter(targets.values()))
    if len(targets) > 1:
        return f"the file proxies to {_describe(list(targets))}: it names no single upstream of the service"
    naming = [u for u in upstreams.values() if any(_colors_of(s.address, colors) for s in _servers(u))]
    if len(naming) == 1:
        return _Target(naming[0])
    if naming:
        return (f"the file defines the upstreams {_describe([u.args[0].value for u in naming])}, each naming a colour,"
                f" and neither an upstream named {service or 'after the service'} nor a proxy_pass that tells"
                " which one proxies the service")
    if len(upstreams) == 1:
        return _Target(next(iter(upstreams.values())))
    if upstreams:
        return f"the file defines the upstreams {_describe(list(upstreams))}, and none names a colour's address"
    return "the file defines no upstream and no proxy_pass"


def _colors_text(colors: dict[str, Address]) -> str:
    return ", ".join(f"{c}: {'unix:' + a.unix if a.unix else f'{a.host}:{a.port}'}" for c, a in colors.items())


def _judge(target: _Target, colors: dict[str, Address]) -> tuple[str, str]:
    if target.upstream is None:
        host = target.key
        named = _colors_of(parse_address(host), colors)
        if len(named) == 1:
            return named[0], ""
        return "", f"proxy_pass names {host}, which is no colour's address ({_colors_text(colors)})"
    name = target.upstream.args[0].value
    servers = _servers(target.upstream)
    if not servers:
        return "", f"the upstream {name} has no server"
    live = [s for s in servers if s.live]
    if not live:
        return "", (f"the upstream {name} has only backup or down servers: "
                    + _describe([f"{s.address_token.value} ({' '.join(sorted(s.flags & {'backup', 'down'}))})"
                                 for s in servers]))
    named = {c for s in live for c in _colors_of(s.address, colors)}
    others = [s.address_token.value for s in live if not _colors_of(s.address, colors)]
    addresses = _describe([s.address_token.value for s in live])
    if len(named) > 1:
        return "", f"the upstream {name} names {addresses}, {'both' if len(live) == 2 else 'all'} live"
    if others and named:
        return "", (f"the upstream {name} names {addresses}, live; {_describe(others)} is no colour's address"
                    f" ({_colors_text(colors)})")
    if others:
        return "", (f"the upstream {name} names {addresses}, which is no colour's address"
                    f" ({_colors_text(colors)})")
    return next(iter(named)), ""


def live_color(text: str | None, color_ports: dict, service: str = "") -> tuple[str, str]:
    """(colour, '') for the colour the file sends the service's traffic to, or ('', what the file names)."""
    try:
        colors = color_addresses(color_ports)
        tree, _ = parse(text or "")
    except ValueError as e:
        return "", f"the file is not valid nginx syntax: {e}" if isinstance(e, NginxSyntaxError) else str(e)
    target = _find_target(tree, colors, service)
    if isinstance(target, str):
        return "", target
    return _judge(target, colors)


def _address_text(old: Address | None, old_text: str, new: Address, given_as_port: bool) -> str:
    """The new colour's address written as the old one was (same host spelling when both are local ports)."""
    if new.unix:
        return "unix:" + new.unix
    if given_as_port and old is not None and not old.unix and old.is_loopback():
        host = old_text.rpartition(":")[0] if (":" in old_text and not old_text.endswith("]")) else old_text
        return f"{host}:{new.port}"
    return f"[{new.host}]:{new.port}" if ":" in new.host else f"{new.host}:{new.port}"


def _replace_in_token(token: Token, span: tuple[int, int], new: str) -> tuple[int, int, str]:
    """The edit (start, end, raw) replacing a part of a token's value; the token's quoting is kept."""
    value = token.value[:span[0]] + new + token.value[span[1]:]
    quote = token.quote or ('"' if any(c in value for c in SPACE + ";{}#\"'\\") else "")
    if quote:
        value = quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    return token.start, token.end, value


def switch(text: str, color_ports: dict, from_color: str, to_color: str, service: str = "") -> str:
    """The file with the service's traffic moved from one colour to the other, by editing tokens.

    An upstream chosen by a selector (a proxy_pass or a map's default naming it) is switched by naming
    the upstream of the other colour when the file has one; otherwise the two colours' addresses swap
    places in the upstream, so each position keeps its flags (the old colour takes the place of a
    backup the new one held) and the new colour is never left backup or down. color=NAME marks in
    comments on an edited line follow. Raises ValueError when the file's live colour is not from_color,
    or when the result would not send the traffic to to_color.
    """
    colors = color_addresses(color_ports)
    if from_color not in colors or to_color not in colors or from_color == to_color:
        raise ValueError(f"cannot switch from {from_color!r} to {to_color!r} with the colours {list(colors)}")
    live, reason = live_color(text, color_ports, service)
    if live != from_color:
        raise ValueError(f"the file's live colour is {live}, not {from_color}" if live else reason)
    tree, comments = parse(text)
    target = _find_target(tree, colors, service)
    edits: list[tuple[int, int, str]] = []
    given_as_port = {c: not isinstance(spec, str) or spec.isdigit() for c, spec in color_ports.items()}
    if target.upstream is None:
        for token, span in target.direct:
            old_text = token.value[span[0]:span[1]]
            new = _address_text(parse_address(old_text), old_text, colors[to_color], given_as_port[to_color])
            edits.append(_replace_in_token(token, span, new))
    else:
        others = [u for u in _upstreams(tree).values()
                  if u is not target.upstream and _judge(_Target(u), colors)[0] == to_color]
        if target.selectors and len(others) == 1:
            edits += [_replace_in_token(token, span, others[0].args[0].value) for token, span in target.selectors]
        else:
            swap = {from_color: to_color, to_color: from_color}
            for server in _servers(target.upstream):
                named = _colors_of(server.address, colors)
                if len(named) == 1 and named[0] in swap:
                    new_color = swap[named[0]]
                    token = server.address_token
                    new = _address_text(server.address, token.value, colors[new_color], given_as_port[new_color])
                    edits.append(_replace_in_token(token, (0, len(token.value)), new))
    edited_lines = {text.count("\n", 0, start) + 1 for start, _, _ in edits}
    swap_marks = {from_color: to_color, to_color: from_color}
    for comment in comments:
        if comment.line in edited_lines and COLOR_MARK.search(comment.text):
            marked = COLOR_MARK.sub(lambda m: "color=" + swap_marks.get(m.group(1), m.group(1)), comment.text)
            rest = text[comment.start + 1 + len(comment.text):comment.end]  # a CR before the LF
            edits.append((comment.start, comment.end, "#" + marked + rest))
    switched = text
    for start, end, raw in sorted(set(edits), reverse=True):  # a map's default may select for several proxy_pass
        switched = switched[:start] + raw + switched[end:]
    now, reason = live_color(switched, color_ports, service)
    if now != to_color:
        raise ValueError(f"the switched file would not send the traffic to {to_color}: {reason or now}")
    return switched


# When nginx last loaded its configuration. A reload (SIGHUP) makes the master read the files again
# and start new worker processes, while the old ones finish as "nginx: worker process is shutting
# down"; the master keeps its start time. So the start of the oldest current worker is the last load.
WORKER_TITLE = "nginx: worker process"
MASTER_TITLE = "nginx: master process"
# A process's start is known to a clock tick (10 ms): a file changed this close after a load is not
# called newer than it.
LOAD_TOLERANCE_S = 0.05


def _proc_read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def _stat_fields(stat: str) -> list[str]:
    """/proc/PID/stat's fields from the state on (field 3): the command name may hold spaces and ')'."""
    return stat.rpartition(")")[2].split()


def boot_time_s() -> float:
    """The wall-clock time of the boot, from two clocks read together (/proc/uptime is read to 10 ms
    only, and reading it apart from the wall clock moves the result on a busy host)."""
    return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)


def nginx_loaded_at(proc_root: str = "/proc", boot_s: float | None = None) -> tuple[float | None, str]:
    """(epoch seconds, '') of nginx's last configuration load, or (None, why it cannot be told).

    A process's start time in /proc/PID/stat counts clock ticks since the boot (boot_s, the wall
    clock's time of the boot, defaults to this host's)."""
    masters: list[int] = []
    workers: dict[int, list[int]] = {}  # master PID -> its current workers' start times in clock ticks
    try:
        entries = [e for e in os.listdir(proc_root) if e.isdigit()]
    except OSError as e:
        return None, f"unable to read the processes in {proc_root}: {e}"
    for pid in entries:
        try:
            title = _proc_read(os.path.join(proc_root, pid, "cmdline")).replace("\0", " ").strip()
            if title.startswith(MASTER_TITLE):
                masters.append(int(pid))
            elif title == WORKER_TITLE:
                fields = _stat_fields(_proc_read(os.path.join(proc_root, pid, "stat")))
                workers.setdefault(int(fields[1]), []).append(int(fields[19]))
        except (OSError, ValueError, IndexError):
            continue  # a process that ended while we read
    if not masters:
        return None, (f"no nginx master process is seen in {proc_root} (nginx is not running, or {proc_root}"
                      " hides other users' processes: hidepid)")
    if len(masters) > 1:
        return None, f"several nginx master processes run (PIDs {', '.join(map(str, sorted(masters)))})"
    started = workers.get(masters[0])
    if not started:
        return None, f"nginx's master process (PID {masters[0]}) has no current worker process"
    boot_s = boot_time_s() if boot_s is None else boot_s
    return boot_s + min(started) / os.sysconf("SC_CLK_TCK"), ""


def _iso(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def include_state(path: str, proc_root: str = "/proc", boot_s: float | None = None) -> dict:
    """When the include was last changed and nginx last loaded its configuration, and whether the
    change came after the load (then the file may not be what nginx serves)."""
    try:
        modified = os.stat(path).st_mtime
    except OSError as e:
        modified, modified_error = None, f"unable to read {path}: {e.strerror}"
    else:
        modified_error = ""
    loaded, loaded_error = nginx_loaded_at(proc_root, boot_s)
    return {
        "modified_at": _iso(modified),
        "loaded_at": _iso(loaded),
        "loaded_at_error": modified_error or loaded_error,
        "changed_after_load": None if modified is None or loaded is None
        else modified > loaded + LOAD_TOLERANCE_S,
    }
