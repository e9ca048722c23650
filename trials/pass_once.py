"""One engine pass, without Prefect, as its own process: `python -m trials.pass_once [--at ISO] [--go FILE]`.

The store, var/ folder, SMTP relay and claim lease come from the environment (INCIDENTS_*). With `--go`, the
process imports the engine, says so (FILE with the suffix .ready), then waits for FILE to exist before it
acts (a trial releases it at a chosen moment).
Prints the pass's result as one JSON line.
"""

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pendulum

from flows.steps import engine_pass_bare

GO_TIMEOUT_SECONDS = 600


def instant(text: str) -> pendulum.DateTime:
    """An ISO instant with its offset, as `--at` takes it."""
    parsed = pendulum.parse(text)
    if not isinstance(parsed, pendulum.DateTime) or parsed.tzinfo is None:
        raise ValueError(f"not an instant with an offset: {text}")
    return parsed


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--at", type=instant, default=None, help="act as of this instant (default: now)")
    arguments.add_argument("--go", type=Path, default=None, help="wait for this file to exist before acting")
    options = arguments.parse_args()
    if options.go is not None:
        options.go.with_suffix(".ready").touch()  # imported: a trial may now release several passes at once
        deadline = time.monotonic() + GO_TIMEOUT_SECONDS
        while not options.go.exists():
            if time.monotonic() > deadline:
                print(f"never released: {options.go} did not appear", file=sys.stderr)
                return 3
            time.sleep(0.005)
    now = options.at or pendulum.now("UTC")
    result = asyncio.run(engine_pass_bare(now))
    print(json.dumps(asdict(result), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
