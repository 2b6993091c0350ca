"""Masking, template mining quality (grouping accuracy), memory bound and throughput sanity."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from bench.logdata import FORMAT_NAMES, generate, grouping_accuracy, multi_service_stream
from service.logs import TemplateMiner, learn_header, mask_text, mine_file
from service.logs.clusters import Cluster, generalize, merge_covered
from service.logs.masking import TokenMasker, mask_token


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("took 12ms then 3.5s", "took <*> then <*>"),
        ("from 10.0.0.1 and 10.0.0.2:8080", "from <*> and <*>"),
        ("[client 192.168.1.20] denied", "[client <*>] denied"),
        ("id 0x7fed806eb5d and deadbeefcafe", "id <*> and <*>"),
        ("req 123e4567-e89b-12d3-a456-426614174000 ok", "req <*> ok"),
        ("open /var/log/app.log failed", "open <*> failed"),
        ("fetch https://example.com/a?b=c", "fetch <*>"),
        ("mail bob@example.com", "mail <*>"),
        ("user=alice size=42 (uid=0)", "user=alice size=<*> (uid=<*>)"),
        ("blk_-1608999687919862906 count 7", "<*> count <*>"),
        ('said "hello there friend" twice', 'said "<*>" twice'),
        ('"GET /api/users/12/orders?x=1 HTTP/1.1" 200', '"GET /api/users/<*>/orders?<*> <*>" <*>'),
        ("Connection closed by peer", "Connection closed by peer"),
        ("idle since Tue Mar  3 09:15:02 2026 for host b", "idle since <*> for host b"),
        ('got tag="Disk Sync", owner=Pool{42}, n=7', 'got tag="<*>", owner=<*>, n=<*>'),
        ('got tag="idle", owner=none, n=8', 'got tag="<*>", owner=none, n=<*>'),
        ("sent 1190 bytes (1.16 KB), got 0 bytes in <1 sec", "sent <*> bytes, got <*> bytes in <*> sec"),
        ("key down true canceled False, owner=null", "key down <*> canceled <*>, owner=<*>"),
        ("clip isOverlap:false, retry:true at a:b", "clip isOverlap:<*>, retry:<*> at a:b"),
        (
            "step onExtend:1514038530000 14, [port:8080] via http://h1/x or h2:80",
            "step onExtend:<*> <*>, [port:<*>] via <*> or <*>",
        ),
        ("start org.demo.app/.ui.Main from conf/app.yaml", "start <*> from <*>"),
        ("read/write on I/O and tcp/udp", "read/write on I/O and tcp/udp"),
        ("cache prefetch depth.........3 loading...done", "cache prefetch depth.........<*> loading...done"),
        (
            "link up on eth0 via IPv6 (ssh2) slot 12 node n42",
            "link up on eth0 via IPv6 (ssh2) slot <*> node <*>",
        ),
        ('lease "x y" expires Dec 31 23:59:59 now', 'lease "<*>" expires <*> now'),
        (
            "PollerOpen(0) then quiet(true) then init() then f(x)",
            "PollerOpen(<*>) then quiet(<*>) then init() then f(x)",
        ),
    ],
)
def test_masking_each_variable_kind(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "token", ["(ssh2)", "ssh2]", "eth0,", "(12)", "eth12,", "[port:80]", "onExtend:15140", "a:b"]
)
def test_memoised_masker_agrees_with_mask_token(token: str) -> None:
    # The miner masks through TokenMasker's shortcut for plain values; a word named by one digit
    # inside brackets or before a comma must not take that shortcut.
    assert TokenMasker()[token] == mask_token(token)


def mine(lines: list[str]) -> tuple[TemplateMiner, list[int]]:
    miner = TemplateMiner(lines[:500], reference_year=2026)
    ids = [miner.add(n, line) for n, line in enumerate(lines, 1)]
    miner.templates()
    return miner, [miner.resolve(i) for i in ids]


def test_grouping_accuracy_on_labelled_generator() -> None:
    scores = {}
    for name in FORMAT_NAMES:
        log = generate(name, 2000)
        miner, ids = mine(log.lines)
        scores[name] = grouping_accuracy(ids, log.labels)
        print(f"{name:16} templates {len(miner):3d} / {log.n_templates:3d}  GA {scores[name]:.3f}")
    average = sum(scores.values()) / len(scores)
    print(f"average GA {average:.3f}")
    assert len(FORMAT_NAMES) >= 8
    assert average > 0.9
    assert min(scores.values()) > 0.8


def test_grouping_accuracy_metric() -> None:
    assert grouping_accuracy([1, 1, 2], ["a", "a", "b"]) == 1.0
    assert grouping_accuracy([1, 1, 1], ["a", "a", "b"]) == 0.0
    assert grouping_accuracy([1, 2, 3], ["a", "a", "b"]) == pytest.approx(1 / 3)


def test_template_fields_and_examples() -> None:
    lines = [
        f"2026-03-04 10:00:0{i},000 WARN [main] a.Pool: pool {u} exhausted after {i}ms"
        for i, u in enumerate(["alpha", "beta", "gamma", "delta", "omega", "kappa"])
    ]
    lines.insert(3, "2026-03-04 10:00:02,500 ERROR [main] a.Pool: pool closed")
    miner, ids = mine(lines)
    top = miner.templates()[0]
    assert top.pattern == "pool <*> exhausted after <*>"
    assert (top.count, top.first_line, top.last_line) == (6, 1, 7)
    assert top.first_ts == datetime(2026, 3, 4, 10, 0, 0) and top.last_ts == datetime(2026, 3, 4, 10, 0, 5)
    assert top.levels == {"WARN": 6}
    assert top.examples[0][:3] == ["alpha", "beta", "gamma"] and top.examples[1][0] == "0ms"
    assert len({ids[i] for i in (0, 1, 2, 4, 5, 6)}) == 1 and ids[3] != ids[0]
    assert json.loads(json.dumps(top.to_dict()))["count"] == 6


def test_opened_closed_stay_apart_and_lists_of_any_length_group() -> None:
    lines = []
    for i in range(40):
        verb = "opened" if i % 2 else "closed"
        lines.append(f"Mar  4 10:00:{i % 60:02d} host sshd[{i}]: session {verb} for user root")
        blocks = " ".join(f"blk_{i}{k}" for k in range(1 + i % 3))
        lines.append(f"Mar  4 10:00:{i % 60:02d} host hdfs[{i}]: ask 10.0.0.{i}:50010 to delete {blocks}")
    miner, _ = mine(lines)
    patterns = sorted(t.pattern for t in miner.templates())
    assert patterns == [
        "ask <*> to delete <*>",
        "session closed for user root",
        "session opened for user root",
    ]


@pytest.fixture(scope="module")
def big_log() -> list[str]:
    return list(multi_service_stream(200_000))


def test_memory_bounded_by_templates(big_log: list[str]) -> None:
    miner, _ = mine(big_log)
    templates = miner.templates()
    stored = sum(len(values) for t in templates for values in t.examples)
    assert len(templates) <= 40
    assert stored <= 300
    assert len(miner._cache) <= 100_000 and len(miner._lines) <= 50_000


def test_throughput_sanity(big_log: list[str]) -> None:
    lines = big_log
    start = time.process_time()
    mine(lines)
    rate = len(lines) / max(time.process_time() - start, 1e-9)
    print(f"multi-service 200k lines: {rate:,.0f} lines/s (CPU time)")
    assert rate > 10_000  # generous: the real number is in bench/bench_templates.py


def test_mine_file_summary(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    body = [
        "2026-03-04 10:00:00,000 INFO [main] a.B: start 1",
        "2026-03-04 10:00:01,000 ERROR [main] a.B: failed 2",
        "java.lang.RuntimeException: x",
        "\tat a.B(B.java:1)",
        "2026-03-04 10:00:02,000 INFO [main] a.B: start 3",
    ]
    log.write_text("\n".join(body) + "\n")
    summary = mine_file(log, reference_year=2026)
    assert (summary.lines, summary.events) == (5, 3)
    assert summary.levels == {"INFO": 2, "ERROR": 1}
    assert summary.first_ts == datetime(2026, 3, 4, 10) and summary.last_ts == datetime(2026, 3, 4, 10, 0, 2)
    assert [(t.pattern, t.count) for t in summary.templates] == [("start <*>", 2), ("failed <*>", 1)]
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["templates"][1]["first_line"] == 2


def test_miner_without_sample_learns_header_online() -> None:
    log = generate("hdfs", 3000)
    miner = TemplateMiner(reference_year=2026)
    ids = [miner.add(n, line) for n, line in enumerate(log.lines, 1)]
    miner.templates()
    assert grouping_accuracy([miner.resolve(i) for i in ids], log.labels) > 0.9


def test_word_between_masked_tokens_is_not_a_variable() -> None:
    # Six action words, each framed only by masked tokens ("(job <*>)" counts as masked): a slot
    # whose neighbours carry no constant word is the message's verb, not a name to generalise.
    verbs = ["start", "stop", "pause", "resume", "drain", "flush"]
    lines = [
        f"2026-03-04 10:00:{i:02d},000 INFO q{i % 3}: {i} {verbs[i % 6]} (job {100 + i})" for i in range(36)
    ]
    miner, ids = mine(lines)
    assert sorted(t.pattern for t in miner.templates()) == sorted(f"<*> {v} (job <*>)" for v in verbs)
    # Names framed by constant words still generalise.
    users = ["ann", "bob", "cid", "dan", "eve", "fay"]
    lines = [
        f"2026-03-04 10:00:{i:02d},000 INFO a: login failed for user {users[i % 6]} today" for i in range(12)
    ]
    miner, ids = mine(lines)
    assert [t.pattern for t in miner.templates()] == ["login failed for user <*> today"]


def test_cluster_matched_by_a_more_general_one_joins_it() -> None:
    # The first line has no digits, so nothing masks it; the later ones mask to wildcards in both
    # slots, and that general template covers the first line too.
    lines = [
        "2026-03-04 10:00:00,000 INFO a.Reg: registering class net.alpha.Store for class net.alpha.Writer"
    ]
    lines += [
        f"2026-03-04 10:00:0{i},000 INFO a.Reg: registering class net.v{i}.Type for class net.v{i}.Handler"
        for i in range(1, 7)
    ]
    miner, ids = mine(lines)
    assert [t.pattern for t in miner.templates()] == ["registering class <*> for class <*>"]
    assert len(set(ids)) == 1
    # A pattern of wildcards only covers everything of its length and takes nobody in.
    clusters = [
        Cluster(0, ("<*>", "<*>"), 1),
        Cluster(1, ("ready", "now"), 2),
        Cluster(2, ("ready", "<*>"), 3),
    ]
    assert {old: new.id for old, new in merge_covered(clusters, 3).items()} == {1: 2}


def test_one_word_messages_do_not_merge_into_a_bare_wildcard() -> None:
    # A template of wildcards only ('<*>', a message that is one number) takes in no other one-word
    # message: 'initEnviroument' and 'clear()' are events, not values of a slot.
    words = [
        "initEnviroument",
        "clear()",
        "sendSyncFailedBroadcast",
        "getStepCounterStatus",
        "reStartStepCounter",
    ]
    clusters = [Cluster(i, (w,), i) for i, w in enumerate(words)] + [Cluster(9, ("<*>",), 9)]
    assert generalize(clusters, 5, 3) == {}
    # With a constant word beside it the slot still generalises.
    clusters = [Cluster(i, ("step", w), i) for i, w in enumerate(words)] + [Cluster(9, ("step", "<*>"), 9)]
    assert len(generalize(clusters, 5, 3)) == 5
    lines = [f"20171224-0:0:0:{i}|Step_A|3000|{words[i % 5]}" for i in range(10)]
    lines += [f"20171224-0:0:1:{i}|Step_A|3000|{i}00{i}" for i in range(10)]
    miner, ids = mine(lines)
    assert sorted(t.pattern for t in miner.templates()) == sorted([*words, "<*>"])


def test_unit_after_a_number_is_part_of_the_value() -> None:
    # "5.5 KB" and "18846 bytes (18.4 KB)" mask to "<*> KB" and "<*> bytes" (the restatement goes);
    # amounts whose unit varies merge, and so does a unit token of its own ("3 min" / "3 h") right
    # after a number (clusters).
    lines = [
        f"2026-03-04 10:00:{i:02d},000 INFO a.Cache: block b{i} kept (size {i}.5 {['B', 'KB', 'MB'][i % 3]},"
        f" free {i}00 bytes{' (1.5 KB)' if i % 2 else ''}) after {i} {['min', 'h'][i // 6]}, took <1 sec"
        for i in range(12)
    ]
    lines += [
        f"2026-03-04 10:01:{i:02d},000 INFO a.Shop: sold {i} {['apples', 'pears'][i % 2]}" for i in range(6)
    ]
    miner, ids = mine(lines)
    assert sorted(t.pattern for t in miner.templates()) == [
        "block <*> kept (size <*>, free <*> bytes) after <*> <*>, took <*> sec",
        "sold <*> apples",
        "sold <*> pears",
    ]


def test_program_dash_header_is_cut_whatever_flags_the_program_carries() -> None:
    # "[time] prog - message", sometimes "prog *64 - message": the lone '-' ends the header, so the
    # optional flag does not change the message's length.
    progs = ["fetch.exe", "sync.exe *64", "mail.exe", "fetch.exe *64"]
    lines = [
        f"[03.04 10:00:{i:02d}] {progs[i % 4]} - h{i}.example.org:443 {'open via gw' if i % 2 else 'closed after'} {i} s"
        for i in range(16)
    ]
    header = learn_header(lines)
    assert header.mode == "DASH"
    assert header.cut(lines[1])[2] == "h1.example.org:443 open via gw 1 s"
    miner, ids = mine(lines)
    assert sorted(t.pattern for t in miner.templates()) == ["<*> closed after <*> s", "<*> open via gw <*> s"]


def test_names_shared_by_two_templates_generalise_below_min_distinct() -> None:
    # Three or four users (fewer than min_distinct=5) in two templates: the same three words are the
    # alternatives of a slot in both, so the slot is a name, not a verb.
    users = ["cyrus", "news", "test", "root"]
    lines = []
    for i in range(24):
        user = users[i % 4]
        if user != "root":
            lines.append(
                f"Jun 15 04:06:{i:02d} combo su(pam_unix)[{900 + i}]: session opened for user {user} by (uid=0)"
            )
        lines.append(f"Jun 15 04:06:{i:02d} combo su(pam_unix)[{900 + i}]: session closed for user {user}")
    miner, ids = mine(lines)
    assert sorted(t.pattern for t in miner.templates()) == [
        "session closed for user <*>",
        "session opened for user <*> by (uid=<*>)",
    ]
    # Three alternatives in one template only, or two shared ones, stay words.
    lines = [
        f"2026-03-04 10:00:{i:02d},000 INFO a: service {['web', 'db', 'mq'][i % 3]} restarted"
        for i in range(9)
    ]
    lines += [f"2026-03-04 10:01:{i:02d},000 INFO a: task {['web', 'db'][i % 2]} queued" for i in range(6)]
    miner, ids = mine(lines)
    assert len(miner.templates()) == 5


def test_word_value_of_a_key_is_kept_until_the_slot_has_many() -> None:
    # user=root and user=guest are different events until many users show it is a name slot, which
    # then keeps its key (user=<*>); a value with a digit is masked at once and joins that slot.
    assert (
        mask_text("failure; tty=NODEVssh rhost=10.0.0.1 user=root")
        == "failure; tty=NODEVssh rhost=<*> user=root"
    )
    assert mask_text("ok user=test9 state=true") == "ok user=<*> state=<*>"
    few = [
        f"Jun 15 02:04:{i:02d} combo sshd[{i}]: auth failure; rhost=10.0.0.{i}  user={['root', 'guest'][i % 2]}"
        for i in range(8)
    ]
    miner, _ = mine(few)
    assert sorted(t.pattern for t in miner.templates()) == [
        "auth failure; rhost=<*> user=guest",
        "auth failure; rhost=<*> user=root",
    ]
    names = ["root", "uucp", "ftp", "git", "mysql", "sshd", "test9"]
    many = [
        f"Jun 15 02:05:{i:02d} combo sshd[{i}]: auth failure; rhost=10.0.0.{i}  user={names[i % 7]}"
        for i in range(14)
    ]
    miner, _ = mine(many)
    assert [t.pattern for t in miner.templates()] == ["auth failure; rhost=<*> user=<*>"]


def test_a_template_of_only_variables_does_not_swallow_words() -> None:
    # One-token messages: numbers make a "<*>" template; a word of the same length must stay its own.
    miner = TemplateMiner()
    lines = [f"2026-01-01 10:00:0{i % 10} {value}" for i, value in enumerate(["17", "23", "99", "42", "8"])]
    lines += ["2026-01-01 10:00:09 shutdown", "2026-01-01 10:00:09 restart"]
    ids = [miner.add(n, line) for n, line in enumerate(lines, 1)]
    patterns = {t.id: t.pattern for t in miner.templates()}
    assert patterns[miner.resolve(ids[0])] == "<*>"
    assert patterns[miner.resolve(ids[5])] == "shutdown" and patterns[miner.resolve(ids[6])] == "restart"


def test_examples_from_a_line_of_another_length_are_skipped() -> None:
    # Wildcard-run survivors take lines of any length; their slots do not line up with such a line.
    cluster = Cluster(0, ("job", "<*>", "<*>", "done"), 1)
    cluster.record_examples(["job", "a1"], 3)
    cluster.record_examples(["job", "a1", "b2", "done"], 3)
    assert cluster.examples == {1: ["a1"], 2: ["b2"]}
