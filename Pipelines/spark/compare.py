#!/usr/bin/env python3
"""Compare the Spark job's clusters with one catpool process's.

    python3 Pipelines/spark/compare.py SINGLE.jsonl SPARK.jsonl

A cluster is the union of the SIMs its decision lines name (as `catpool score` counts it).
Prints how many of the single process's clusters the job reproduced with the identical SIM
set, and each one it did not, with the nearest job cluster; exits 1 when fewer than
--min-share (default 0.98) are identical, or when the job has clusters the single process
does not.
"""

import argparse
import json
import sys


def clusters(path):
    sims = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                decision = json.loads(line)
                sims.setdefault(decision["cluster_id"], set()).update(decision["sims"])
    return sims


def main(argv):
    parser = argparse.ArgumentParser(prog="compare.py")
    parser.add_argument("single")
    parser.add_argument("spark")
    parser.add_argument("--min-share", type=float, default=0.98)
    args = parser.parse_args(argv)
    single, spark = clusters(args.single), clusters(args.spark)
    spark_sets = {frozenset(s): cid for cid, s in spark.items()}
    identical = [cid for cid, s in single.items() if frozenset(s) in spark_sets]
    share = len(identical) / len(single) if single else 1.0
    extra = [cid for cid, s in spark.items() if frozenset(s) not in {frozenset(v) for v in single.values()}]
    print(f"single process: {len(single)} clusters; spark: {len(spark)} clusters; identical SIM sets: "
          f"{len(identical)} ({share:.1%})")
    for cid, s in sorted(single.items(), key=lambda kv: int(kv[0][3:])):
        if frozenset(s) in spark_sets:
            continue
        near = max(spark.items(), key=lambda kv: len(kv[1] & s), default=(None, set()))
        print(f"  differs: {cid} ({len(s)} SIMs) ~ spark {near[0]} ({len(near[1])} SIMs, {len(near[1] & s)} shared)")
    for cid in extra:
        print(f"  only in spark: {cid} ({len(spark[cid])} SIMs)")
    return 0 if share >= args.min_share and len(spark) <= len(single) + (len(single) - len(identical)) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
