"""Issue 20's speed goals against the latest measurements, one table.

    python -m benchmarks.goals            # print the table
    python -m benchmarks.goals --readme   # ... and write it into README.md between its markers

It measures nothing itself: it reads what the benchmarks wrote last, each result with its CPU and date,
    benchmarks/results/zoo.json          python -m benchmarks.zoo --steps 400 --readme
    benchmarks/results/gpt_lecture.json  python -m benchmarks.gpt_lecture --dropout 0.2 0 --variants relu gelu --readme
    benchmarks/results/latest.json       python -m benchmarks.bench --update-docs
so run those first. Only reports: no test asserts a speed.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
START, END = "<!-- speed goals: written by python -m benchmarks.goals --readme -->", "<!-- end of speed goals -->"


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _row(goal: str, value: float, limit: float, unit: str = "x", where: str = "") -> tuple:
    met = "met" if value <= limit else "not met"
    return goal, f"{value:.2f}{unit}", met, where


def _model_rows(name: str, ms: dict, replay_key: str, where: str) -> list:
    """A model's two goals: its dynamic step at most torch's, its replayed step at most 0.7x."""
    return [_row(f"{name}: dynamic <= 1.0x torch", ms["tensorgrad"] / ms["torch"], 1.0, where=where),
            _row(f"{name}: replayed <= 0.7x torch", ms[replay_key] / ms["torch"], 0.7, where=where)]


def zoo_rows(zoo) -> list:
    where = f"zoo, {zoo['meta']['machine']}, {zoo['meta']['date']}"
    return [row for r in zoo["results"] for row in _model_rows(r["type"], r["ms"], "replay", where)]


def gpt_rows(gpt) -> list:
    where = f"gpt_lecture, {gpt['meta']['machine']}, {gpt['meta']['date']}"
    return [row for r in gpt["results"]
            for row in _model_rows(f"GPT lecture ({r['variant']}, dropout {r['dropout']:g})", r["ms"],
                                   "tensorgrad replay", where)]


def bench_rows(bench) -> list:
    where = f"bench, {bench['machine']['cpu']}, {bench['machine']['date']}"
    rows = []
    for step in bench["steps"]:
        ms, b = step["ms"], step["batch"]
        for form, limit in (("chunked", 0.7), ("fused", 0.6)):
            if b == 32 and f"tensorgrad|{form}" in ms:
                rows.append(_row(f"lecture MLP, {form}, batch 32: dynamic <= {limit}x torch",
                                 ms[f"tensorgrad|{form}"] / ms[f"torch|{form}"], limit, where=where))
            if b >= 2048 and f"numpy|{form}" in ms:
                for who in ("tensorgrad", "tensorgrad replay"):
                    rows.append(_row(f"lecture MLP, {form}, batch {b}: {who} <= 1.05x the NumPy floor",
                                     ms[f"{who}|{form}"] / ms[f"numpy|{form}"], 1.05, where=where))
    chain = {r["name"]: r["us_per_op"] for r in bench.get("chain", [])}
    if "tensorgrad" in chain:
        torch = f" (torch {chain['torch']:.2f} us)" if "torch" in chain else ""
        rows.append(_row("per op in a chain, forward + backward <= 2.5 us", chain["tensorgrad"], 2.5, " us",
                         where + torch))
    return rows


def table() -> str:
    rows, missing = [], []
    for name, make in (("zoo.json", zoo_rows), ("gpt_lecture.json", gpt_rows), ("latest.json", bench_rows)):
        res = _load(name)
        if res is None:
            missing.append(name)
        else:
            rows += make(res)
    lines = ["| goal | measured | | from |", "|---|---:|---|---|"]
    lines += [f"| {g} | {v} | {m} | {w} |" for g, v, m, w in rows]
    met = sum(r[2] == "met" for r in rows)
    lines += ["", f"{met} of {len(rows)} goals met."]
    if missing:
        lines.append(f"No results yet from {', '.join(missing)}: run its benchmark first.")
    return "\n".join(lines)


def write_readme(text: str):
    readme = README.read_text()
    if START not in readme or END not in readme:
        sys.exit(f"README.md has no '{START}' ... '{END}' markers")
    head, rest = readme.split(START, 1)
    README.write_text(head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = p.parse_args(argv)
    text = table()
    print(text)
    if args.readme:
        write_readme(text)


if __name__ == "__main__":
    main()
