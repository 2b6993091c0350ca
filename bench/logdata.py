"""Deterministic labelled synthetic logs in real-world shapes, shared by tests and benchmarks.

`generate(name, n_lines, seed)` returns raw lines (headers included) and, per line, the
ground-truth template id. Message templates are modelled on the Loghub datasets (HDFS, Apache,
OpenSSH, Android, Windows CBS, Spark, OpenStack, BGL) plus nginx access and Python logging.
They include the hard cases of real logs on purpose: variables the regexes cannot see (user
names, host names), templates that differ in one word (opened/closed), and a few variables of
varying length (disconnect reasons, block lists), which no token-count-keyed miner can group.

`multi_service_stream(n_lines)` lazily yields a large mixed log with an error burst in the
middle (for scale tests); `burst_span` says which lines the burst covers.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "BURST_MAX_LINES",
    "FORMAT_NAMES",
    "LabelledLog",
    "burst_span",
    "generate",
    "generate_all",
    "grouping_accuracy",
    "multi_service_stream",
]

START = datetime(2026, 3, 4, 10, 0, 0)

_USERS = [
    "root",
    "admin",
    "test",
    "oracle",
    "guest",
    "user",
    "ubuntu",
    "postgres",
    "git",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "nagios",
    "ftp",
    "www",
    "deploy",
    "jenkins",
    "hadoop",
    "mysql",
    "support",
    "backup",
    "operator",
    "pi",
]
_RHOSTS = [
    "hn.kd.ny.adsl",
    "ns.example.net",
    "mail.corp.org",
    "gw.isp.cn",
    "static.host.br",
    "dyn.pool.ru",
    "vps.cloud.io",
    "edge.cdn.com",
    "dsl.telecom.fr",
    "a.b.c.d",
    "host.local",
    "proxy.uni.edu",
]
_REASONS = ("Bye Bye", "disconnected by user", "Normal Shutdown, Thank you for playing", "Goodbye")
_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/8.4.0",
    "python-httpx/0.27.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
)
_WORDS = ["alpha", "beta", "gamma", "delta", "kappa", "sigma", "omega", "zeta", "theta", "lambda"]


def _hexs(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _path(rng: random.Random) -> str:
    return (
        "/"
        + "/".join(rng.choice(("var", "tmp", "data", "srv", "opt", "home")) for _ in range(2))
        + (f"/{rng.choice(_WORDS)}_{rng.randrange(1000)}.{rng.choice(('log', 'dat', 'conf'))}")
    )


_VARS: dict[str, Callable[[random.Random], str]] = {
    "ip": lambda r: f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
    "port": lambda r: str(r.randrange(1024, 65535)),
    "int": lambda r: str(r.randrange(100_000)),
    "small": lambda r: str(r.randrange(1, 10)),
    "size": lambda r: str(r.randrange(1, 67_108_864)),
    "blk": lambda r: str(r.randrange(-(2**63), 2**63)),
    "hex": lambda r: "0x" + _hexs(r, 8),
    "hex8": lambda r: _hexs(r, 8),
    "hex32": lambda r: _hexs(r, 32),
    "uuid": lambda r: f"{_hexs(r, 8)}-{_hexs(r, 4)}-{_hexs(r, 4)}-{_hexs(r, 4)}-{_hexs(r, 12)}",
    "user": lambda r: r.choice(_USERS),
    "rhost": lambda r: r.choice(_RHOSTS),
    "reason": lambda r: r.choice(_REASONS),
    "word": lambda r: r.choice(_WORDS),
    "path": _path,
    "ms": lambda r: f"{r.randrange(1, 5000)}ms",
    "sec": lambda r: f"{r.random() * 30:.3f}s",
    "float": lambda r: f"{r.random() * 100:.4f}",
    "email": lambda r: f"{r.choice(_USERS)}@example.com",
    "url": lambda r: f"https://api.example.com/v1/{r.choice(_WORDS)}/{r.randrange(1000)}",
    "status": lambda r: r.choice(("200", "200", "200", "304", "404", "500")),
    "ref": lambda r: r.choice(("-", "-", f"https://shop.example.com/p/{r.randrange(900)}")),
    "ua": lambda r: r.choice(_AGENTS),
    "node": lambda r: f"node-{r.randrange(1, 300)}",
    "blklist": lambda r: " ".join(f"blk_{r.randrange(-(2**63), 2**63)}" for _ in range(r.randrange(1, 4))),
}


class _Fill(dict[str, str]):
    """format_map source that draws a fresh value per placeholder ({ip2} draws like {ip})."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        return _VARS[key.rstrip("0123456789")](self.rng)


@dataclass(frozen=True)
class LabelledLog:
    """Raw lines of one format with the ground-truth template id of each line."""

    name: str
    lines: list[str]
    labels: list[int]
    n_templates: int


def _weights(n: int, rng: random.Random) -> list[float]:
    # Zipf-like skew, shuffled so the frequent templates are not always the first listed.
    weights = [1.0 / (i + 1) ** 1.2 for i in range(n)]
    rng.shuffle(weights)
    return weights


def _render(spec: Spec, rng: random.Random, at: datetime, idx: int) -> str:
    level, component, text = spec.templates[idx]
    return spec.header(rng, at, level, component) + text.format_map(_Fill(rng))


def generate(name: str, n_lines: int = 2000, seed: int = 0) -> LabelledLog:
    """Labelled lines of format `name` (one of FORMAT_NAMES); deterministic per (name, seed)."""
    spec = FORMATS[name]
    rng = random.Random(f"{name}:{seed}")
    weights = _weights(len(spec.templates), rng)
    labels = rng.choices(range(len(spec.templates)), weights, k=n_lines)
    at = START
    lines = []
    for idx in labels:
        at += timedelta(milliseconds=rng.randrange(1, 2000))
        lines.append(_render(spec, rng, at, idx))
    return LabelledLog(name, lines, labels, len(set(labels)))


def generate_all(n_lines: int = 2000, seed: int = 0) -> list[LabelledLog]:
    """One labelled log per format."""
    return [generate(name, n_lines, seed) for name in FORMAT_NAMES]


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """Grouping accuracy (Zhu et al., ICSE-SEIP 2019): the share of lines whose predicted group
    holds exactly the lines of their ground-truth group."""
    pred_groups: defaultdict[Hashable, set[int]] = defaultdict(set)
    true_groups: defaultdict[Hashable, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        pred_groups[p].add(i)
        true_groups[t].add(i)
    correct = sum(len(ids) for ids in true_groups.values() if pred_groups[predicted[min(ids)]] == ids)
    return correct / len(truth) if truth else 1.0


BURST_MAX_LINES = 3_000


def burst_span(
    n_lines: int, burst: tuple[float, float] = (0.48, 0.52), max_lines: int | None = BURST_MAX_LINES
) -> range:
    """The 0-based lines of the error burst in a `multi_service_stream` of `n_lines` lines.

    The burst covers the `burst` fractions of the stream, centred there and at most `max_lines` long
    (None: no cap). An incident lasts as long as it lasts, not a fixed share of however much log was
    collected: uncapped, a 4% burst of a 2.5M-line member is ~17 minutes of ~80 errors/s (~80k error lines,
    ~3.7M tokens verbatim); capped, it is ~30 s at the stream's ~100 lines/s.
    """
    lo, hi = int(n_lines * burst[0]), int(n_lines * burst[1])
    if max_lines is not None and hi - lo > max_lines:
        lo = (lo + hi - max_lines) // 2
        hi = lo + max_lines
    return range(lo, hi)


def multi_service_stream(
    n_lines: int,
    seed: int = 0,
    burst: tuple[float, float] = (0.48, 0.52),
    burst_max_lines: int | None = BURST_MAX_LINES,
) -> Iterator[str]:
    """Lazily yield a mixed multi-service log (ISO timestamps, service names) of `n_lines` lines.

    Inside `burst_span(n_lines, burst, burst_max_lines)` error templates are 30x more frequent: the
    shape an incident leaves in a real log.
    """
    rng = random.Random(f"multi:{seed}")
    spec = FORMATS["python_logging"]
    errors = {i for i, t in enumerate(spec.templates) if t[0] in ("ERROR", "CRITICAL")}
    base = _weights(len(spec.templates), rng)
    hot = [w * 30 if i in errors else w for i, w in enumerate(base)]
    population = range(len(base))
    cum_base, cum_hot = list(itertools.accumulate(base)), list(itertools.accumulate(hot))
    at = START
    span = burst_span(n_lines, burst, burst_max_lines)
    for n in range(n_lines):
        cum = cum_hot if n in span else cum_base
        idx = rng.choices(population, cum_weights=cum)[0]
        at += timedelta(microseconds=rng.randrange(1, 20_000))
        yield _render(spec, rng, at, idx)


# ---------------------------------------------------------------------------------------------
# Formats: a header renderer and (level, component, message template) triples.

Header = Callable[[random.Random, datetime, str, str], str]
T = tuple[str, str, str]


@dataclass(frozen=True)
class Spec:
    """One log shape: how headers look and which message templates occur."""

    header: Header
    templates: tuple[T, ...]


def _ms(at: datetime) -> str:
    return f"{at.microsecond // 1000:03d}"


def _h_hdfs(r: random.Random, at: datetime, level: str, comp: str) -> str:
    return f"{at:%y%m%d %H%M%S} {r.randrange(1, 40000)} {level} {comp}: "


def _h_apache(r: random.Random, at: datetime, level: str, comp: str) -> str:
    return f"[{at:%a %b %d %H:%M:%S %Y}] [{level}] "


def _h_nginx(r: random.Random, at: datetime, level: str, comp: str) -> str:
    user = r.choice(("-", "-", "-", r.choice(_USERS)))
    return f"{_VARS['ip'](r)} - {user} [{at:%d/%b/%Y:%H:%M:%S} +0000] "


def _h_sshd(r: random.Random, at: datetime, level: str, comp: str) -> str:
    pid = 1 if comp == "systemd" else r.randrange(1000, 30000)
    return f"{at:%b} {at.day:2d} {at:%H:%M:%S} LabSZ {comp}[{pid}]: "


def _h_android(r: random.Random, at: datetime, level: str, comp: str) -> str:
    return (
        f"{at:%m-%d %H:%M:%S}.{_ms(at)} {r.randrange(1, 4000):5d} {r.randrange(1, 9000):5d} {level} {comp}: "
    )


def _h_cbs(r: random.Random, at: datetime, level: str, comp: str) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}, {level:<22}{comp:<7}"


def _h_spark(r: random.Random, at: datetime, level: str, comp: str) -> str:
    return f"{at:%y/%m/%d %H:%M:%S} {level} {comp}: "


def _h_openstack(r: random.Random, at: datetime, level: str, comp: str) -> str:
    req = f"[req-{_VARS['uuid'](r)} {_hexs(r, 32)} {_hexs(r, 32)} - - -]"
    return f"nova-api.log.1.2017-05-16_13:53:08 {at:%Y-%m-%d %H:%M:%S}.{_ms(at)} {r.randrange(2000, 30000)} {level} {comp} {req} "


def _bgl_node(r: random.Random) -> str:
    return f"R{r.randrange(80):02d}-M{r.randrange(2)}-N{r.randrange(16):X}-C:J{r.randrange(2, 18):02d}-U{r.randrange(1, 12):02d}"


def _h_bgl(r: random.Random, at: datetime, level: str, comp: str) -> str:
    node = _bgl_node(r)
    epoch = int(at.timestamp())
    return f"- {epoch} {at:%Y.%m.%d} {node} {at:%Y-%m-%d-%H.%M.%S}.{at.microsecond:06d} {node} RAS {comp} {level} "


@functools.lru_cache(maxsize=1024)
def _iso_seconds(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}"  # strftime dominates generation time; seconds repeat


def _h_python(r: random.Random, at: datetime, level: str, comp: str) -> str:
    return f"{_iso_seconds(at.replace(microsecond=0))},{_ms(at)} - {comp} - {level} - "


_DN, _FS, _PR, _DX = (
    "dfs.DataNode",
    "dfs.FSNamesystem",
    "dfs.DataNode$PacketResponder",
    "dfs.DataNode$DataXceiver",
)
_HDFS: tuple[T, ...] = (
    ("INFO", _DX, "Receiving block blk_{blk} src: /{ip}:{port} dest: /{ip2}:{port2}"),
    ("INFO", _PR, "PacketResponder {small} for block blk_{blk} terminating"),
    ("INFO", _PR, "Received block blk_{blk} of size {size} from /{ip}"),
    (
        "INFO",
        _FS,
        "BLOCK* NameSystem.addStoredBlock: blockMap updated: {ip}:{port} is added to blk_{blk} size {size}",
    ),
    ("INFO", _FS, "BLOCK* NameSystem.allocateBlock: {path}. blk_{blk}"),
    ("INFO", _DN, "{ip}:{port} Served block blk_{blk} to /{ip2}"),
    ("WARN", _DN, "{ip}:{port}:Got exception while serving blk_{blk} to /{ip2}:"),
    ("INFO", "dfs.DataBlockScanner", "Verification succeeded for blk_{blk}"),
    ("INFO", "dfs.FSDataset", "Deleting block blk_{blk} file {path}"),
    ("INFO", _DN, "{ip}:{port} Starting thread to transfer block blk_{blk} to {ip2}:{port2}"),
    ("INFO", _FS, "BLOCK* ask {ip}:{port} to delete {blklist}"),
    ("INFO", _DX, "writeBlock blk_{blk} received exception java.io.IOException: Connection reset by peer"),
    ("INFO", _DN, "Received block blk_{blk} src: /{ip}:{port} dest: /{ip2}:{port2} of size {size}"),
    ("INFO", _FS, "BLOCK* NameSystem.delete: blk_{blk} is added to invalidSet of {ip}:{port}"),
    (
        "INFO",
        "dfs.DataNode$BlockReceiver",
        "Exception in receiveBlock for block blk_{blk} java.io.IOException: Connection reset by peer",
    ),
    ("INFO", _DX, "Receiving empty packet for block blk_{blk}"),
    (
        "INFO",
        _PR,
        "PacketResponder blk_{blk} {small} Exception java.io.InterruptedIOException: Interrupted while waiting for IO on channel",
    ),
    (
        "WARN",
        _FS,
        "BLOCK* NameSystem.addStoredBlock: Redundant addStoredBlock request received for blk_{blk} on {ip}:{port} size {size}",
    ),
    (
        "INFO",
        _FS,
        "BLOCK* Removing block blk_{blk} from neededReplications as it does not belong to any file.",
    ),
    (
        "WARN",
        _DN,
        "{ip}:{port}:Failed to transfer blk_{blk} to {ip2}:{port2} got java.io.IOException: Connection reset by peer",
    ),
)

_APACHE: tuple[T, ...] = (
    ("notice", "", "workerEnv.init() ok {path}"),
    ("error", "", "mod_jk child workerEnv in error state {small}"),
    ("notice", "", "jk2_init() Found child {int} in scoreboard slot {small}"),
    ("error", "", "[client {ip}] Directory index forbidden by rule: {path}/"),
    ("error", "", "[client {ip}] File does not exist: {path}"),
    ("error", "", "[client {ip}] script not found or unable to stat: {path}"),
    ("notice", "", "Apache/2.0.49 (Fedora) configured -- resuming normal operations"),
    ("notice", "", "SIGHUP received.  Attempting to restart"),
    ("error", "", "mod_jk child init {small} -{small2}"),
    ("warn", "", "child process {int} still did not exit, sending a SIGTERM"),
    ("error", "", "child process {int} still did not exit, sending a SIGKILL"),
    ("notice", "", "Digest: generating secret for digest authentication ..."),
    ("notice", "", "Digest: done"),
    ("error", "", "[client {ip}] user {user} not found: /private/{word}"),
    ("error", "", '[client {ip}] user {user}: authentication failure for "/admin": Password Mismatch'),
    ("error", "", "[client {ip}] Invalid method in request {word}"),
    ("notice", "", "caught SIGTERM, shutting down"),
    ("error", "", "[client {ip}] request failed: error reading the headers"),
)

_ROUTES = (
    "GET /api/users/{int}",
    "GET /api/users/{int}/orders",
    "POST /api/users",
    "GET /api/orders/{uuid}",
    "PUT /api/orders/{uuid}",
    "DELETE /api/orders/{uuid}",
    "GET /static/app.js",
    "GET /static/app.css",
    "GET /health",
    "GET /",
    "POST /login",
    "POST /logout",
    "GET /search?q={word}",
    "GET /api/products/{int}",
    "GET /api/products?page={small}",
    "POST /api/cart/{int}/items",
    "GET /favicon.ico",
    "GET /metrics",
    "PATCH /api/users/{int}/settings",
    "GET /api/reports/{int}/download",
)
_NGINX: tuple[T, ...] = tuple(
    ("", "", '"' + route + ' HTTP/1.1" {status} {int} "{ref}" "{ua}"') for route in _ROUTES
)

_SSHD: tuple[T, ...] = (
    (
        "",
        "sshd",
        "reverse mapping checking getaddrinfo for {rhost} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!",
    ),
    ("", "sshd", "Invalid user {user} from {ip}"),
    ("", "sshd", "input_userauth_request: invalid user {user} [preauth]"),
    ("", "sshd", "pam_unix(sshd:auth): check pass; user unknown"),
    (
        "",
        "sshd",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}",
    ),
    (
        "",
        "sshd",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}",
    ),
    ("", "sshd", "Failed password for invalid user {user} from {ip} port {port} ssh2"),
    ("", "sshd", "Failed password for {user} from {ip} port {port} ssh2"),
    ("", "sshd", "Accepted password for {user} from {ip} port {port} ssh2"),
    ("", "sshd", "Received disconnect from {ip}: 11: Bye Bye [preauth]"),
    ("", "sshd", "Connection closed by {ip} [preauth]"),
    (
        "",
        "sshd",
        "error: Received disconnect from {ip}: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
    ),
    ("", "sshd", "PAM {small} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}"),
    ("", "sshd", "PAM service(sshd) ignoring max retries; {small} > 3"),
    ("", "sshd", "Disconnecting: Too many authentication failures for {user} [preauth]"),
    ("", "sshd", "message repeated {small} times: [ Failed password for {user} from {ip} port {port} ssh2]"),
    ("", "sshd", "pam_unix(sshd:session): session opened for user {user} by (uid=0)"),
    ("", "sshd", "pam_unix(sshd:session): session closed for user {user}"),
    ("", "sshd", "Did not receive identification string from {ip}"),
    ("", "sshd", "Server listening on {ip} port {port}."),
    ("", "sshd", "fatal: Read from socket failed: Connection reset by peer [preauth]"),
    ("", "sshd", "Received disconnect from {ip} port {port}:11: {reason} [preauth]"),
    ("", "CRON", "pam_unix(cron:session): session opened for user {user} by (uid=0)"),
    ("", "CRON", "pam_unix(cron:session): session closed for user {user}"),
    ("", "systemd", "Started Session {int} of user {user}."),
    ("", "systemd", "Removed slice User Slice of {user}."),
)

_ANDROID: tuple[T, ...] = (
    (
        "D",
        "PowerManagerService",
        'acquire lock={int}, flags=0x1, tag="View Lock", name=com.android.systemui, ws=null, uid={int2}, pid={int3}',
    ),
    (
        "D",
        "PowerManagerService",
        'release:lock={int}, flg=0x0, tag="RILJ_ACK_WL", name=com.android.phone", ws=null, uid=1001, pid={int2}',
    ),
    ("I", "PowerManager_screenOn", "DisplayPowerStatesetColorFadeLevel: level={float}"),
    ("D", "DisplayPowerController", "Animating brightness: target={small}, rate={int}"),
    ("V", "WindowManager", "Skipping AppWindowToken{{{hex8} token=Token{{{hex8}}}}} -- going to hide"),
    (
        "D",
        "WindowManager",
        "printFreezingDisplayLogsopening app wtoken = AppWindowToken{{{hex8}}}, allDrawn= false, startingDisplayed =  false",
    ),
    (
        "I",
        "ActivityManager",
        "Start proc {int}:com.tencent.mm/u0a{int2} for service com.tencent.mm/.plugin.Service",
    ),
    ("W", "ActivityManager", "Unable to start service Intent {{ act=com.example.{word} }} U=0: not found"),
    ("E", "ActivityManager", "ANR in com.example.{word}, PID: {int}"),
    (
        "D",
        "PhoneStatusBar",
        "disable: < expand ICONS* alerts* system_info* back* home* recent* clock* search quick_settings >",
    ),
    ("I", "StatusBar", "setLightsOn(true)"),
    ("D", "KeyguardUpdateMonitor", "handleBatteryUpdate level={small} status={small2}"),
    ("E", "WifiStateMachine", "ConnectedState !CMD_RSSI_POLL {int} {int2} {int3}"),
    ("D", "WifiStateMachine", "processMsg: ConnectedState"),
    ("I", "SendBroadcastPermission", "action:android.intent.action.SCREEN_OFF, mPermissionType:{small}"),
    ("D", "SurfaceFlinger", "FrameEvents: composite {int} present {int2}"),
    ("W", "System.err", "java.net.SocketTimeoutException: timeout after {ms}"),
    ("I", "chatty", "uid={int}(u0_a{int2}) com.example.{word} identical {small} lines"),
    (
        "D",
        "BatteryService",
        "Processing new values: chargerAcOnline=false, batteryLevel={small}, batteryTemperature={int}",
    ),
    ("E", "AudioFlinger", "not enough memory for AudioTrack size={size}"),
    ("I", "ActivityManager", "Killing {int}:com.example.{word}/u0a{int2} (adj {small}): empty #{small2}"),
    ("D", "ConnectivityService", "notifyType CAP_CHANGED for NetworkAgentInfo [WIFI () - {int}]"),
    ("V", "AlarmManager", "triggered: cmp={word} Pkg:com.android.phone"),
    ("F", "libc", "Fatal signal {small} (SIGSEGV), code 1, fault addr {hex} in tid {int}"),
    ("D", "InputReader", "Input event: value={small}"),
    ("I", "InputDispatcher", "Delivering touch to (pid={int}): action: 0x0"),
    ("D", "NotificationService", "Cancel notification pkg=com.example.{word} id={int}"),
    ("I", "NotificationService", "Posting notification pkg=com.example.{word} id={int} channel=default"),
    ("W", "Looper", "Slow dispatch took {ms} main h=android.app.ActivityThread$H c=null m=159"),
    ("W", "Looper", "Slow delivery took {ms} main h=android.app.ActivityThread$H c=null m=159"),
    (
        "I",
        "Choreographer",
        "Skipped {int} frames!  The application may be doing too much work on its main thread.",
    ),
    (
        "D",
        "NetworkController",
        "onSignalStrengthsChanged signalStrength=SignalStrength: {int} {int2} level={small}",
    ),
    ("E", "BluetoothAdapter", "Bluetooth binder is null"),
    ("I", "BluetoothAdapter", "STATE_ON"),
    (
        "D",
        "LocationManagerService",
        "request {hex8} gps Request[ACCURACY_FINE gps requested={ms} fastest={ms2}] from com.example.{word}",
    ),
    ("D", "LocationManagerService", "removeUpdates: listener {hex8} from com.example.{word}"),
    ("I", "DropBoxManagerService", "add tag=system_app_strictmode isTagEnabled=true flags=0x2"),
    ("W", "PackageManager", "Failure retrieving resources for com.example.{word}: Resource ID #0x{hex8}"),
    ("E", "SQLiteLog", "(284) automatic index on sqlite_sq_{hex8}(account_id)"),
    ("I", "JobScheduler", "Job {int}:com.example.{word}/.SyncJob finished in {ms}"),
)

_CBS: tuple[T, ...] = (
    (
        "Info",
        "CBS",
        "Loaded Servicing Stack v6.1.7601.{int} with Core: C:\\Windows\\winsxs\\amd64_{hex32}\\cbscore.dll",
    ),
    (
        "Info",
        "CSI",
        "{hex8}@2016/9/{small}:20:30:31.{int} WcpInitialize (wcp.dll version 0.0.0.6) called (stack @{hex})",
    ),
    ("Info", "CBS", "Starting TrustedInstaller initialization."),
    ("Info", "CBS", "Ending TrustedInstaller initialization."),
    ("Info", "CBS", "Starting the TrustedInstaller main loop."),
    ("Info", "CBS", "TrustedInstaller service starts successfully."),
    ("Info", "CBS", "SQM: Initializing online with Windows opt-in: False"),
    ("Info", "CBS", "SQM: Cleaning up report files older than {small} days."),
    ("Info", "CBS", "SQM: Requesting upload of all unsent reports."),
    (
        "Info",
        "CBS",
        "SQM: Failed to start upload with file pattern: C:\\Windows\\servicing\\sqm\\*_std.sqm, flags: 0x2 [HRESULT = {hex} - E_FAIL]",
    ),
    ("Info", "CBS", "No startup processing required, TrustedInstaller service was not set as autostart"),
    ("Info", "CBS", "Startup processing thread terminated normally"),
    ("Info", "CBS", "Session: {int}_{int2} initialized by client WindowsUpdateAgent."),
    (
        "Info",
        "CBS",
        "Read out cached package applicability for package: Package_for_KB{int}~31bf3856ad364e35~amd64~~6.1.1.{small}, ApplicableState: {small2}, CurrentState:{small3}",
    ),
    ("Info", "CBS", "Warning: Unrecognized packageExtended attribute."),
    ("Info", "CBS", "Expecting attribute name [HRESULT = {hex} - CBS_E_MANIFEST_INVALID_ITEM]"),
    ("Info", "CBS", "Failed to get next element [HRESULT = {hex} - CBS_E_MANIFEST_INVALID_ITEM]"),
    ("Info", "CSI", "{hex8} CSI Store {int} (0x{hex8}) initialized"),
    (
        "Warning",
        "CBS",
        "Failed to resolve package 'Package_for_KB{int}~31bf3856ad364e35~amd64~~6.1.1.{small}' [HRESULT = {hex} - CBS_E_INVALID_PACKAGE]",
    ),
    (
        "Error",
        "CBS",
        "Exec: Processing complete.  Session: {int}_{int2}, Package: Package_for_KB{int3} [HRESULT = {hex} - E_FAIL]",
    ),
)

_EX, _SCHED, _STORE = "executor.Executor", "scheduler.TaskSetManager", "storage.BlockManager"
_SPARK: tuple[T, ...] = (
    ("INFO", _EX, "Running task {float} in stage {float2} (TID {int})"),
    ("INFO", _EX, "Finished task {float} in stage {float2} (TID {int}). {int2} bytes result sent to driver"),
    ("INFO", _STORE, "Found block rdd_{int}_{small} locally"),
    (
        "INFO",
        "storage.MemoryStore",
        "Block broadcast_{int} stored as values in memory (estimated size {float} KB, free {float2} GB)",
    ),
    (
        "INFO",
        "storage.MemoryStore",
        "Block broadcast_{int}_piece0 stored as bytes in memory (estimated size {float} KB, free {float2} GB)",
    ),
    ("INFO", "broadcast.TorrentBroadcast", "Started reading broadcast variable {int}"),
    ("INFO", "broadcast.TorrentBroadcast", "Reading broadcast variable {int} took {small} ms"),
    ("INFO", "executor.CoarseGrainedExecutorBackend", "Got assigned task {int}"),
    ("INFO", "spark.CacheManager", "Partition rdd_{int}_{small} not found, computing it"),
    ("INFO", "spark.MapOutputTrackerWorker", "Don't have map outputs for shuffle {small}, fetching them"),
    ("INFO", "spark.MapOutputTrackerWorker", "Got the output locations"),
    ("INFO", "storage.ShuffleBlockFetcherIterator", "Getting {int} non-empty blocks out of {int2} blocks"),
    ("INFO", "storage.ShuffleBlockFetcherIterator", "Started {small} remote fetches in {small2} ms"),
    (
        "INFO",
        "python.PythonRunner",
        "Times: total = {int}, boot = {small}, init = {small2}, finish = {small3}",
    ),
    ("INFO", "executor.CoarseGrainedExecutorBackend", "Registered signal handlers for [TERM, HUP, INT]"),
    ("INFO", "spark.SecurityManager", "Changing view acls to: {user}"),
    ("INFO", "spark.SecurityManager", "Changing modify acls to: {user}"),
    ("WARN", _SCHED, "Lost task {float} in stage {float2} (TID {int}, {node}): ExecutorLostFailure"),
    ("ERROR", _EX, "Exception in task {float} in stage {float2} (TID {int})"),
    (
        "INFO",
        "storage.DiskBlockManager",
        "Created local directory at /opt/hdfs/nodemanager/usercache/curi/appcache/application_{int}_{int2}/blockmgr-{uuid}",
    ),
    ("INFO", "util.Utils", "Successfully started service 'sparkExecutorActorSystem' on port {port}."),
    ("INFO", "executor.CoarseGrainedExecutorBackend", "Driver commanded a shutdown"),
)

_OS_API, _OS_CMP = "nova.osapi_compute.wsgi.server", "nova.compute.manager"
_OPENSTACK: tuple[T, ...] = (
    ("INFO", _OS_API, '{ip} "GET /v2/{hex32}/servers/detail HTTP/1.1" status: 200 len: {int} time: {float}'),
    (
        "INFO",
        _OS_API,
        '{ip} "POST /v2/{hex32}/os-server-external-events HTTP/1.1" status: 200 len: {int} time: {float}',
    ),
    (
        "INFO",
        _OS_API,
        '{ip} "DELETE /v2/{hex32}/servers/{uuid} HTTP/1.1" status: 204 len: {int} time: {float}',
    ),
    ("INFO", _OS_CMP, "[instance: {uuid}] VM Started (Lifecycle Event)"),
    ("INFO", _OS_CMP, "[instance: {uuid}] VM Stopped (Lifecycle Event)"),
    ("INFO", _OS_CMP, "[instance: {uuid}] VM Paused (Lifecycle Event)"),
    ("INFO", _OS_CMP, "[instance: {uuid}] VM Resumed (Lifecycle Event)"),
    ("INFO", _OS_CMP, "[instance: {uuid}] Took {float} seconds to spawn the instance on the hypervisor."),
    ("INFO", _OS_CMP, "[instance: {uuid}] Took {float} seconds to build instance."),
    ("INFO", _OS_CMP, "[instance: {uuid}] Terminating instance"),
    (
        "INFO",
        _OS_CMP,
        "[instance: {uuid}] During sync_power_state the instance has a pending task (spawning). Skip.",
    ),
    ("INFO", "nova.virt.libvirt.driver", "[instance: {uuid}] Creating image"),
    ("INFO", "nova.virt.libvirt.driver", "[instance: {uuid}] Deleting instance files {path}"),
    ("INFO", "nova.virt.libvirt.imagecache", "image {uuid} at ({path}): checking"),
    ("INFO", "nova.virt.libvirt.imagecache", "Active base files: {path}"),
    ("INFO", "nova.compute.claims", "[instance: {uuid}] Total memory: {int} MB, used: {float} MB"),
    ("INFO", "nova.compute.claims", "[instance: {uuid}] Claim successful"),
    (
        "WARNING",
        "nova.compute.manager",
        "[instance: {uuid}] Instance shutdown by itself. Calling the stop API.",
    ),
    ("ERROR", "nova.compute.manager", "[instance: {uuid}] Instance failed to spawn"),
    (
        "INFO",
        "nova.metadata.wsgi.server",
        '{ip} "GET /openstack/2013-10-17/meta_data.json HTTP/1.1" status: 200 len: {int} time: {float}',
    ),
)

_BGL: tuple[T, ...] = (
    ("INFO", "KERNEL", "instruction cache parity error corrected"),
    ("INFO", "KERNEL", "data TLB error interrupt"),
    ("INFO", "KERNEL", "generating core.{int}"),
    ("INFO", "KERNEL", "{int} double-hummer alignment exceptions"),
    ("FATAL", "KERNEL", "data storage interrupt"),
    ("FATAL", "KERNEL", "machine check interrupt"),
    ("INFO", "KERNEL", "CE sym {small}, at {hex}, mask {hex2}"),
    (
        "FATAL",
        "APP",
        "ciod: failed to read message prefix on control stream (CioStream socket to {ip}:{port}",
    ),
    (
        "FATAL",
        "APP",
        "ciod: Error loading {path}: invalid or missing program image, No such file or directory",
    ),
    ("INFO", "KERNEL", "total of {small} ddr error(s) detected and corrected"),
    ("ERROR", "KERNEL", "Error receiving packet on tree network, expecting type 57 instead of type {small}"),
    ("FATAL", "KERNEL", "rts: kernel terminated for reason {int}"),
    ("INFO", "KERNEL", "ddr: excessive soft failures, consider replacing the card"),
    ("FATAL", "KERNEL", "Lustre mount FAILED : bglio{small} : block_id : location"),
    ("WARNING", "KERNEL", "iar {hex} dear {hex2}"),
    ("INFO", "DISCOVERY", "Node card VPD check: {node} node in processor card slot {small} do not match."),
    (
        "SEVERE",
        "MMCS",
        "idoproxydb hit ASSERT condition: ASSERT expression=0 Source file=idotransportmgr.cpp Source line={int}",
    ),
    ("INFO", "KERNEL", "{small} L3 EDRAM error(s) (dcr {hex}) detected and corrected"),
    ("FATAL", "KERNEL", "program interrupt: illegal instruction"),
    ("FATAL", "KERNEL", "program interrupt: privileged instruction"),
)

_PY: tuple[T, ...] = (
    ("INFO", "api.http", "request started method=GET path=/v1/items/{int} request_id={uuid}"),
    ("INFO", "api.http", "request finished status=200 duration={ms} request_id={uuid}"),
    ("WARNING", "api.http", "slow request path=/v1/search took {sec}"),
    ("INFO", "worker.jobs", "job {uuid} submitted by {email}"),
    ("INFO", "worker.jobs", "job {uuid} finished in {sec}"),
    ("ERROR", "worker.jobs", "job {uuid} failed: timeout after {sec}"),
    ("INFO", "db.pool", "connection opened to postgres://db{small}.internal:5432/app"),
    ("INFO", "db.pool", "connection closed to postgres://db{small}.internal:5432/app"),
    ("WARNING", "db.pool", "pool exhausted size={small} waiting={int}"),
    ("ERROR", "db.pool", "could not connect to server: Connection refused (host={ip} port={port})"),
    ("DEBUG", "cache.redis", "cache hit key=user:{int}"),
    ("DEBUG", "cache.redis", "cache miss key=user:{int}"),
    ("INFO", "auth", "user {user} logged in from {ip}"),
    ("INFO", "auth", "user {user} logged out"),
    ("WARNING", "auth", "invalid password for user {user} from {ip}"),
    ("CRITICAL", "storage", "disk usage at {small}0% on {path}"),
    ("ERROR", "api.http", "upstream {url} returned 503 after {ms}"),
    ("INFO", "scheduler", "scheduled task cleanup_{word} next run at {int}"),
)


def _h_zookeeper(r: random.Random, at: datetime, level: str, comp: str) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S},{_ms(at)} - {level:<5} [{comp}] - "


_ZK_WORKER = "SendWorker:{int}:QuorumCnxManager$SendWorker@679"
_ZOOKEEPER: tuple[T, ...] = (
    (
        "INFO",
        "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197",
        "Accepted socket connection from /{ip}:{port}",
    ),
    (
        "INFO",
        "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1001",
        "Closed socket connection for client /{ip}:{port} which had sessionid 0x{hex8}",
    ),
    (
        "INFO",
        "CommitProcessor:1:ZooKeeperServer@595",
        "Established session 0x{hex8} with negotiated timeout {int} for client /{ip}:{port}",
    ),
    (
        "INFO",
        "ProcessThread(sid:1 cport:-1)::PrepRequestProcessor@476",
        "Processed session termination for sessionid: 0x{hex8}",
    ),
    ("WARN", "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@357", "caught end of stream exception"),
    ("WARN", _ZK_WORKER, "Interrupted while waiting for message on queue"),
    ("WARN", _ZK_WORKER, "Send worker leaving thread"),
    (
        "INFO",
        "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774",
        "Notification time out: {int}",
    ),
    (
        "INFO",
        "WorkerReceiver[myid=1]:FastLeaderElection@542",
        "Notification: {small} (n.leader), 0x{hex8} (n.zxid), 0x{small2} (n.round), LOOKING (n.state), {small3} (n.sid), 0x{small4} (n.peerEPoch), FOLLOWING (my.state)",
    ),
    (
        "WARN",
        "RecvWorker:{int}:QuorumCnxManager$RecvWorker@765",
        "Connection broken for id {int2}, my id = 1, error =",
    ),
    ("INFO", "/{ip}:3888:QuorumCnxManager$Listener@493", "Received connection request /{ip2}:{port}"),
    ("INFO", "SyncThread:1:FileTxnLog@199", "Creating new log file: log.{hex8}"),
)

FORMATS: dict[str, Spec] = {
    "hdfs": Spec(_h_hdfs, _HDFS),
    "apache_error": Spec(_h_apache, _APACHE),
    "nginx_access": Spec(_h_nginx, _NGINX),
    "openssh": Spec(_h_sshd, _SSHD),
    "android": Spec(_h_android, _ANDROID),
    "windows_cbs": Spec(_h_cbs, _CBS),
    "spark": Spec(_h_spark, _SPARK),
    "openstack": Spec(_h_openstack, _OPENSTACK),
    "bgl": Spec(_h_bgl, _BGL),
    "python_logging": Spec(_h_python, _PY),
    "zookeeper": Spec(_h_zookeeper, _ZOOKEEPER),
}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)
