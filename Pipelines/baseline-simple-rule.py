#!/usr/bin/env python3
"""The simple rule catpool is compared against, for `catpool score`.

Per cell and 10-minute bucket of event time, the SIMs whose own calls there were at least
90 % outbound (MOC / (MOC + MTC)) are suspects; flag when at least 4 suspects placed at
least 40 calls. (Read per SIM: counted over the whole cell, ordinary traffic dilutes every
box below 90 %.) Each flagged cell is one cluster, the union of its suspects; prints
detector-style JSON lines: `event`, `cluster_id`, `detected_at`, `sims`.

    zstd -dc day.csv.zst | Pipelines/baseline-simple-rule.py | catpool score --truth truth.json
"""
import collections
import datetime
import json
import sys


def main() -> None:
    header = sys.stdin.readline().rstrip("\r\n").split(",")
    column = {name: index for index, name in enumerate(header)}
    # (cell, bucket) -> imsi -> [calls out, calls in]
    buckets = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    for line in sys.stdin:
        fields = line.rstrip("\r\n").split(",")
        if len(fields) != len(header):
            continue
        kind = fields[column["record_type"]]
        if kind not in ("MOC", "MTC"):
            continue
        try:
            time = datetime.datetime.fromisoformat(fields[column["event_time"]].replace("Z", "+00:00"))
        except ValueError:
            continue
        counts = buckets[(fields[column["cell"]], int(time.timestamp()) // 600)][fields[column["imsi"]]]
        counts[0 if kind == "MOC" else 1] += 1
    clusters = {}
    for (cell, bucket), sims in sorted(buckets.items(), key=lambda item: (item[0][1], item[0][0])):
        suspects = {imsi: out for imsi, (out, into) in sims.items() if out > 0 and out / (out + into) >= 0.9}
        if len(suspects) >= 4 and sum(suspects.values()) >= 40:
            first = cell not in clusters
            clusters.setdefault(cell, set()).update(suspects)
            end = datetime.datetime.fromtimestamp((bucket + 1) * 600, datetime.timezone.utc)
            print(json.dumps({
                "event": "flagged" if first else "updated", "cluster_id": "rule-" + cell,
                "detected_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "sims": sorted(clusters[cell]),
            }))

if __name__ == "__main__":
    main()
