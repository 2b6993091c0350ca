"""How far the token estimator is from real byte-level BPEs, per kind of text.

    .venv/bin/pip install bpe-openai    # bench only, NOT a project dependency (offline o200k/cl100k BPEs)
    .venv/bin/python bench/bench_tokens.py

Corpora (all local): English technical prose (CPython's pydoc_data/topics.py: the language reference text),
the sample contract (sample_docs/contract_text.py), Python stdlib source, the sample payments log plus a
synthetic key=value/JSON/traceback log, and Chinese text assembled from common sentences. MiniMax-M1's own
tokenizer (200K vocabulary, GPT-4-style pre-tokenizer) is closest to o200k_base (see shared reference 5.1:
M1 is within ~3% of o200k on English and code, and ~25% MORE efficient on Chinese).

Prints characters per token for each BPE and our estimator, and the estimator's relative error
(estimate / real - 1; positive = we over-count, which is the safe side for budgets).
"""

from __future__ import annotations

import json
import random
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.tokens import EstimatingCounter  # noqa: E402

_CJK_SENTENCES = [
    "本协议自双方签字之日起生效，有效期为三年。",
    "服务提供方应当按照附件一所列的服务水平提供技术支持。",
    "客户应在收到发票后三十日内支付全部费用。",
    "任何一方违反本协议的，应当赔偿对方因此遭受的全部损失。",
    "系统在凌晨两点发生故障，数据库连接池耗尽，导致支付服务中断约十五分钟。",
    "运维团队随后重启了应用服务器，并将最大连接数从一百调整为三百。",
    "本协议适用中华人民共和国法律，争议提交上海国际仲裁中心仲裁。",
    "未经对方书面同意，任何一方不得将本协议项下的权利义务转让给第三方。",
    "我们对过去一年的日志进行了统计，发现超时错误主要集中在月末结算期间。",
    "保密信息不包括在披露时已经为公众所知的信息。",
    "长上下文模型能够一次读取整份合同，并给出带有页码引用的答案。",
    "如果服务可用率低于百分之九十九点五，客户有权获得相应的服务抵扣。",
]


def corpora() -> dict[str, str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    topics = (stdlib / "pydoc_data" / "topics.py").read_text(encoding="utf-8")
    prose = "\n".join(json.loads(json.dumps(v)) for v in _topics_values(topics))[:400_000]
    sys.path.insert(0, str(ROOT / "sample_docs"))
    import contract_text as ct

    contract = "\n\n".join(
        [ct.TITLE, *ct.PREAMBLE]
        + [f"{num} {head}\n" + "\n".join(paras) for num, head, paras in ct.SECTIONS]
        + list(ct.SIGNATURES)
    )
    code = "".join(p.read_text(encoding="utf-8") for p in sorted(stdlib.glob("*.py"))[:60])[:400_000]
    log = (ROOT / "sample_docs" / "payments-service.log").read_text(encoding="utf-8")
    rng = random.Random(7)
    cjk = "\n".join("".join(rng.choice(_CJK_SENTENCES) for _ in range(6)) for _ in range(2000))
    return {
        "english prose (pydoc topics)": prose,
        "contract (sample MSA)": contract,
        "python stdlib code": code,
        "log (sample payments)": log,
        "log (synthetic)": _synthetic_log(rng),
        "chinese prose": cjk,
    }


def _topics_values(source: str) -> list[str]:
    namespace: dict[str, object] = {}
    exec(compile(source, "topics.py", "exec"), namespace)  # the stdlib's own data module
    topics = namespace["topics"]
    assert isinstance(topics, dict)
    return [str(v) for v in topics.values()]


def _synthetic_log(rng: random.Random) -> str:
    lines = []
    for i in range(8000):
        ts = f"2025-03-{1 + i // 4000:02d}T{(i // 300) % 24:02d}:{(i // 5) % 60:02d}:{i % 60:02d}.{rng.randint(0, 999):03d}Z"
        req = f"{rng.getrandbits(64):016x}"
        kind = rng.random()
        if kind < 0.6:
            lines.append(
                f"{ts} INFO  api request_id={req} method=GET path=/v1/orders/{rng.randint(1, 99999)} status=200 duration_ms={rng.randint(2, 900)}"
            )
        elif kind < 0.85:
            payload = {
                "ts": ts,
                "level": "warn",
                "msg": "slow query",
                "ms": rng.randint(500, 9000),
                "table": "orders",
            }
            lines.append(json.dumps(payload))
        else:
            lines.append(f"{ts} ERROR worker request_id={req} Traceback (most recent call last):")
            lines.append('  File "/app/payments/charge.py", line 212, in capture')
            lines.append(f"TimeoutError: upstream gateway did not answer within {rng.randint(5, 30)}s")
    return "\n".join(lines) + "\n"


def _bpe_count(encoder: object, text: str) -> int:
    """bpe-openai refuses very long inputs: encode line-aligned chunks of ~20K characters."""
    total, start = 0, 0
    while start < len(text):
        end = text.find("\n", start + 20_000)
        end = len(text) if end == -1 else end + 1
        total += len(encoder.encode(text[start:end]))  # type: ignore[attr-defined]
        start = end
    return total


def main() -> None:
    try:
        import bpe_openai
    except ImportError:
        sys.exit(
            "bench only: .venv/bin/pip install bpe-openai (offline BPE tables; tiktoken needs a download)"
        )
    encoders = {name: bpe_openai.get_encoding(name) for name in ("o200k_base", "cl100k_base")}
    estimator = EstimatingCounter()
    header = f"{'corpus':30} {'chars':>9} {'o200k c/t':>10} {'cl100k c/t':>11} {'ours c/t':>9} {'vs o200k':>9} {'vs cl100k':>10}"
    print(header)
    print("-" * len(header))
    for name, text in corpora().items():
        real = {k: _bpe_count(e, text) for k, e in encoders.items()}
        ours = estimator.count(text)
        o, c = real["o200k_base"], real["cl100k_base"]
        print(
            f"{name:30} {len(text):>9,} {len(text) / o:>10.2f} {len(text) / c:>11.2f} {len(text) / ours:>9.2f} "
            f"{ours / o - 1:>+9.1%} {ours / c - 1:>+10.1%}"
        )


if __name__ == "__main__":
    main()
