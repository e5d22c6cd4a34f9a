"""What the generator scripts share: write a generated file, or check that it is up to date."""
import argparse
import os


def main(argv, doc: str, out: str, render) -> int:
    """`python scripts/gen_X.py` writes `out`; with --check, exits 1 if the file differs from render()."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = ap.parse_args(argv)
    text = render()
    name = os.path.relpath(out)
    if args.check:
        with open(out) as f:
            ok = f.read() == text
        print(f"{name} is up to date" if ok else f"{name} is out of date: run this script without --check")
        return 0 if ok else 1
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print(f"wrote {name}")
    return 0
