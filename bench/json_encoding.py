"""JSONResponse's encoder against the stdlib on a ~10 KB document.

Run: python -m bench.json_encoding

Both encoders are timed in the same process, interleaved over several rounds;
the figure that matters is the ratio, not the absolute microseconds.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import timeit
from typing import Any

import orjson

from microweb._json import dumps
from microweb.responses import JSONResponse


def document(seed: int = 7) -> list[dict[str, Any]]:
    """About 10 KB of API-like JSON: ids, names, prices, flags, nulls, nested tags."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "héllo", "naïve", "zürich", "quux"]
    items = []
    for i in range(70):
        items.append(
            {
                "id": i,
                "name": " ".join(rng.choices(words, k=3)),
                "price": round(rng.uniform(1, 500), 2),
                "ratio": rng.random(),
                "in_stock": rng.random() < 0.7,
                "discount": None if rng.random() < 0.5 else round(rng.random(), 3),
                "tags": rng.sample(words, 3),
            }
        )
    return items


def stdlib(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def main(rounds: int = 7, number: int = 2000) -> dict[str, float]:
    doc = document()
    size = len(stdlib(doc))
    assert dumps(doc) == stdlib(doc), "outputs differ: a benchmark of a wrong answer is void"
    candidates = {
        "stdlib json.dumps": lambda: stdlib(doc),
        "microweb _json.dumps": lambda: dumps(doc),
        "JSONResponse(doc)": lambda: JSONResponse(doc),
        "orjson.dumps (no checks)": lambda: orjson.dumps(doc),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            samples[name].append(timeit.timeit(fn, number=number) / number * 1e6)
    medians = {name: statistics.median(times) for name, times in samples.items()}
    base = medians["stdlib json.dumps"]
    print(f"document: {size} bytes, Python {sys.version.split()[0]}, {rounds}x{number} calls")
    print(f"{'encoder':<26}{'µs/call':>10}{'vs stdlib':>11}")
    for name, value in medians.items():
        print(f"{name:<26}{value:>10.2f}{value / base:>10.2f}x")
    return medians


if __name__ == "__main__":
    main()
