#!/usr/bin/env python3
"""catpool on Apache Spark: the same detection as one process, partitioned by location.

    python3 Pipelines/spark/catpool_spark.py --master 'local[2]' --catpool PATH \
        --cells cells.csv --output clusters.jsonl day.csv.zst [more dumps ...]
    spark-submit --master yarn --files catpool,cells.csv Pipelines/spark/catpool_spark.py \
        --catpool catpool --cells cells.csv --table hdfs:///cdr/day=2026-11-20 --output out.jsonl

The catpool binary is the detector; this job only routes records to it (docs/scale-out.md):

1. read: dumps (zstd, gzip or plain, told apart by their first bytes as catpool does) are
   decompressed by the zstd/gzip tools into a scratch folder, one Spark task per dump, then
   read as text by Spark; or, with --table, a Parquet table with the contract's columns;
2. locate: each record's cell -> site (the cell table) -> region (a grid of sites in equal
   shares, or a hash of the site: --partitioning); a cell the table lacks is its own location;
3. first pass: the set of regions each SIM (IMSI) touches in the input;
4. route: each record goes to every region its SIM touches, so a SIM's whole day is in every
   region where it may be clustered (its data sessions, where it came from, when it came);
   the day's first and last call or data record go to every region (time anchors);
5. detect: each region's records, in the dumps' order (or by event time: --order), are piped
   through one catpool process (`catpool detect -q`), in a Spark task;
6. keep and merge: a region keeps only the decisions located at its own sites; decisions of
   several regions about clusters that share SIMs are one cluster; the merged clusters are
   numbered cp-1, cp-2, ... by first detected_at, then smallest IMSI.

Output (--output): every kept decision line as catpool wrote it, with its cluster_id rewritten
to the merged id, ordered by detected_at then id. --clusters FILE adds one line per merged
cluster (the union of its SIMs). --report FILE writes the job's figures as JSON.
"""

import argparse
import atexit
import json
import math
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zlib

REQUIRED = ("event_time", "record_type", "imsi", "cell")
CONTRACT = ("event_time", "record_type", "imsi", "imei", "msisdn", "peer", "duration_s", "cell")


def fail(message, status=64):
    print(f"catpool_spark: {message}", file=sys.stderr)
    sys.exit(status)


# ---------------------------------------------------------------- inputs, cells, regions


def compression(path):
    """zstd, gzip or plain, from the first bytes, as catpool's CDRInput decides."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == b"\x28\xb5\x2f\xfd" or (len(head) == 4 and head[0] & 0xF0 == 0x50 and head[1:] == b"\x2a\x4d\x18"):
        return "zstd"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    return "plain"


def decompress_command(path):
    kind = compression(path)
    if kind == "zstd":
        return ["zstd", "-q", "-dc", "--", path]
    if kind == "gzip":
        return ["gzip", "-dc", "--", path]
    return None


def first_header(path):
    """The first line of a dump that is neither blank nor a comment: its header."""
    command = decompress_command(path)
    if command:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        stream = process.stdout
    else:
        process, stream = None, open(path, "rb")
    try:
        for raw in stream:
            line = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
            if line.startswith("\ufeff"):
                line = line[1:]
            if line.strip() and not line.startswith("#"):
                return line
        return None
    finally:
        stream.close()
        if process:
            process.kill()
            process.wait()


def header_layout(header, mapping):
    """(delimiter, {field: column index}) the way catpool reads a header."""
    counts = {d: header.count(d) for d in (",", ";", "|", "\t")}
    delimiter = max(counts, key=lambda d: (counts[d], -list(counts).index(d)))
    names = [n.strip().strip('"').strip().lower() for n in header.split(delimiter)]
    columns = {}
    for field in CONTRACT:
        name = mapping.get(field, field).lower()
        if name in names:
            columns[field] = names.index(name)
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        fail(f"the header lacks {', '.join(missing)}: {header!r}", 65)
    return delimiter, columns


def read_cells(path):
    """cell -> (site, lat, lon) from the operator's table `cell,site,lat,lon`."""
    cells = {}
    with open(path, encoding="utf-8-sig") as handle:
        header = [n.strip().lower() for n in handle.readline().rstrip("\r\n").split(",")]
        try:
            ci, si, la, lo = (header.index(n) for n in ("cell", "site", "lat", "lon"))
        except ValueError:
            fail(f"{path}: the cell table needs the columns cell,site,lat,lon", 64)
        for raw in handle:
            parts = [p.strip() for p in raw.rstrip("\r\n").split(",")]
            if len(parts) < 4 or not parts[ci]:
                continue
            cells[parts[ci]] = (parts[si], float(parts[la]), float(parts[lo]))
    return cells


def hash_region(name, regions):
    """Region of a location the cell table does not place: CRC-32 of its name, as Spark's crc32."""
    return zlib.crc32(name.encode("utf-8")) % regions


def site_regions(cells, regions, partitioning):
    """site -> region. grid: sites in ceil(sqrt(N)) bands by latitude, each cut by longitude,
    every region holding an equal share of the sites (neighbours stay together, so fewer SIMs
    cross); hash: CRC-32 of the site name (every region is all over the map)."""
    sites = {}
    for site, lat, lon in cells.values():
        sites.setdefault(site, (lat, lon))
    if partitioning == "hash":
        return {site: hash_region(site, regions) for site in sites}
    bands = max(1, int(math.floor(math.sqrt(regions))))
    per_band = [regions // bands + (1 if b < regions % bands else 0) for b in range(bands)]
    ordered = sorted(sites, key=lambda s: (sites[s][0], sites[s][1], s))
    result, start, region = {}, 0, 0
    for b in range(bands):
        share = round(len(ordered) * sum(per_band[: b + 1]) / regions)
        band = sorted(ordered[start:share], key=lambda s: (sites[s][1], sites[s][0], s))
        for t in range(per_band[b]):
            lo = len(band) * t // per_band[b]
            hi = len(band) * (t + 1) // per_band[b]
            for site in band[lo:hi]:
                result[site] = region + t
        region += per_band[b]
        start = share
    return result


# ---------------------------------------------------------------- executor side


def resolve_binary(path):
    """The catpool binary on this executor: the path given, or the copy shipped with --files."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    from pyspark import SparkFiles

    shipped = SparkFiles.get(os.path.basename(path))
    if not os.path.isfile(shipped):
        raise RuntimeError(f"catpool binary not found at {path} nor shipped as {shipped}")
    if not os.access(shipped, os.X_OK):
        try:
            os.chmod(shipped, os.stat(shipped).st_mode | stat.S_IXUSR)
        except OSError:
            copy = os.path.join(tempfile.mkdtemp(prefix="catpool-bin-"), "catpool")
            shutil.copy(shipped, copy)
            os.chmod(copy, 0o755)
            shipped = copy
    return shipped


def resolve_file(path):
    if path is None or os.path.isfile(path):
        return path
    from pyspark import SparkFiles

    return SparkFiles.get(os.path.basename(path))


class RegionProcess:
    """One region's catpool process: its lines are written to stdin as they come; stdout and
    stderr are drained on threads so neither side can block the other."""

    def __init__(self, command, header):
        self.started = time.time()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err, self.records = [], [], 0
        self.readers = [
            threading.Thread(target=lambda: self.out.extend(self.process.stdout.read().splitlines())),
            threading.Thread(target=lambda: self.err.append(self.process.stderr.read())),
        ]
        for reader in self.readers:
            reader.start()
        self.broken = False
        self.write(header.encode("utf-8") + b"\n", 0)

    def write(self, data, records):
        self.records += records
        if not self.broken:
            try:
                self.process.stdin.write(data)
            except BrokenPipeError:
                self.broken = True  # catpool stopped early: its status and stderr say why

    def finish(self):
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        _, code, usage = os.wait4(self.process.pid, 0)  # its CPU time too
        self.process.returncode = status = os.waitstatus_to_exitcode(code)
        self.cpu = usage.ru_utime + usage.ru_stime
        for reader in self.readers:
            reader.join()
        if status != 0:
            message = b"".join(self.err).decode("utf-8", "replace").strip()
            raise RuntimeError(f"catpool exited {status}: {message}")
        return [line.decode("utf-8") for line in self.out], self.records, time.time() - self.started, self.cpu


def make_region_runner(binary, cells, catpool_args, header):
    """mapInArrow function: batches of (target region, line) in arrival or event-time order
    are piped through one catpool per region; yields (region, seq, line) rows: for
    each region a seq -1 row with its record count and catpool's wall time, then its
    decision lines in the order catpool wrote them."""

    def runner(batches):
        import numpy as np
        import pyarrow as pa

        path = resolve_binary(binary)
        command = [path, "detect", "-q"]
        if cells:
            command += ["--cells", resolve_file(cells)]
        extra = list(catpool_args)
        for i in range(len(extra) - 1):
            if extra[i] in ("--profile", "--allow"):
                extra[i + 1] = resolve_file(extra[i + 1])  # shipped with --files on a cluster
        command += extra + ["-"]

        def as_bytes(piece):
            # the values of a binary array slice are its lines back to back: no per-line work
            width = 8 if pa.types.is_large_binary(piece.type) else 4
            offsets = np.frombuffer(piece.buffers()[1], dtype=np.int64 if width == 8 else np.int32)
            start, end = int(offsets[piece.offset]), int(offsets[piece.offset + len(piece)])
            data = piece.buffers()[2]
            return data[start:end].to_pybytes() if data is not None else b""

        def result(region, running):
            decisions, records, seconds, cpu = running.finish()
            mine = resource.getrusage(resource.RUSAGE_SELF)
            python_cpu = mine.ru_utime + mine.ru_stime - since[0]
            since[0] += python_cpu
            return pa.RecordBatch.from_pydict(
                {
                    "region": pa.array([region] * (len(decisions) + 1), pa.int32()),
                    "seq": pa.array(list(range(-1, len(decisions))), pa.int32()),
                    "line": pa.array(
                        [
                            json.dumps(
                                {
                                    "records": records,
                                    "seconds": round(seconds, 3),
                                    "catpool_cpu": round(cpu, 3),
                                    "python_cpu": round(python_cpu, 3),
                                }
                            )
                        ]
                        + decisions,
                        pa.string(),
                    ),
                }
            )

        usage = resource.getrusage(resource.RUSAGE_SELF)
        since = [usage.ru_utime + usage.ru_stime]  # this Python worker's CPU: Arrow in, pipe out
        # A partition usually holds one region, sometimes several (hashed): each has its own
        # catpool, fed its rows in the partition's order as they come.
        running = {}
        for batch in batches:
            if batch.num_rows == 0:
                continue
            values = batch.column(0).to_numpy(zero_copy_only=False)
            lines = batch.column(1)
            for region in np.unique(values).tolist():
                if region not in running:
                    running[region] = RegionProcess(command, header)
                mask = values == region
                rows = lines if mask.all() else lines.filter(pa.array(mask))
                running[region].write(as_bytes(rows), len(rows))
        for region in sorted(running):
            yield result(region, running[region])

    return runner


# ---------------------------------------------------------------- driver: merge


def merge_decisions(kept):
    """kept: [(region, seq, decision dict, line)]. Clusters (region, local id) that share a SIM
    are one; returns {(region, local id): merged id} numbered by first detected_at, then the
    smallest IMSI, and {merged id: summary}."""
    parent = {}

    def find(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    owner = {}
    for region, _, decision, _ in kept:
        node = (region, decision["cluster_id"])
        parent.setdefault(node, node)
        for sim in decision.get("sims", []):
            if sim in owner:
                union(owner[sim], node)
            else:
                owner[sim] = node
    groups = {}
    for region, seq, decision, _ in kept:
        root = find((region, decision["cluster_id"]))
        group = groups.setdefault(root, {"sims": set(), "first": None, "decisions": []})
        group["sims"].update(decision.get("sims", []))
        group["decisions"].append((region, seq, decision))
        if group["first"] is None or decision["detected_at"] < group["first"]:
            group["first"] = decision["detected_at"]
    ordered = sorted(groups.values(), key=lambda g: (g["first"], min(g["sims"]) if g["sims"] else ""))
    ids, summaries = {}, []
    for number, group in enumerate(ordered, 1):
        merged = f"cp-{number}"
        for region, _, decision in group["decisions"]:
            ids[(region, decision["cluster_id"])] = merged
        decisions = sorted(group["decisions"], key=lambda d: (d[2]["detected_at"], d[0], d[1]))
        last = decisions[-1][2]
        rank = {"low": 0, "medium": 1, "high": 2}
        summaries.append(
            {
                "cluster_id": merged,
                "first_detected_at": group["first"],
                "last_detected_at": last["detected_at"],
                "closed": last["event"] == "closed",
                "severity": max((d[2].get("severity", "low") for d in decisions), key=lambda s: rank.get(s, 0)),
                "score": max(d[2].get("score", 0) for d in decisions),
                "locations": sorted({d[2].get("location", "") for d in decisions}),
                "regions": sorted({d[0] for d in decisions}),
                "decisions": len(decisions),
                "sims": sorted(group["sims"]),
                "imeis": sorted({i for d in decisions for i in d[2].get("imeis", [])}),
            }
        )
    return ids, summaries


ID_KEY = re.compile(r'"cluster_id":"[^"]*"')


# ---------------------------------------------------------------- the job


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="catpool_spark.py",
        description="catpool detection on Spark, partitioned by location (docs/scale-out.md).",
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="CDR dumps (zstd, gzip or plain)")
    parser.add_argument("--master", help="Spark master (local[2], yarn, k8s://...); spark-submit's when omitted")
    parser.add_argument("--catpool", required=True, help="the catpool binary (on executors: this path, or shipped with --files)")
    parser.add_argument("--cells", help="the cell table cell,site,lat,lon (shipped with --files on a cluster)")
    parser.add_argument("--output", required=True, help="decision lines with merged cluster ids (JSON lines)")
    parser.add_argument("--clusters", help="also write one line per merged cluster here")
    parser.add_argument("--report", help="write the job's figures (records, duplication, regions, times) as JSON")
    parser.add_argument("--table", help="a Parquet table with the contract's columns instead of dumps")
    parser.add_argument("--regions", type=int, default=8, help="number of regions (default 8)")
    parser.add_argument("--partitioning", choices=("grid", "hash"), default="grid", help="sites to regions (default grid)")
    parser.add_argument(
        "--driver-memory",
        help="the driver's heap, which is the executor's in local mode (default 4g with a local master)",
    )
    parser.add_argument("--partitions", type=int, help="Spark partitions for the detection stage (default: --regions)")
    parser.add_argument(
        "--order",
        choices=("arrival", "event"),
        help="order of each region's records: arrival (the dumps' order, as one process reads them; the default "
        "for dumps) or event time (the default for --table, which has no order of its own)",
    )
    parser.add_argument("--scratch", help="folder for decompressed dumps (shared by all executors on a cluster)")
    parser.add_argument("--profile", help="a detection profile for catpool (shipped with --files on a cluster)")
    parser.add_argument("--timezone", help="passed to catpool; also the zone of times without one for sorting")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="passed to catpool")
    parser.add_argument("--map-type", action="append", default=[], metavar="VALUE=TYPE", help="passed to catpool")
    parser.add_argument("--catpool-arg", action="append", default=[], metavar="ARG", help="any other catpool detect option")
    args = parser.parse_args(argv)
    if bool(args.inputs) == bool(args.table):
        parser.error("give INPUT dumps or --table, not both and not neither")
    if args.driver_memory is None and (args.master or "").startswith("local"):
        args.driver_memory = "4g"
    if args.regions < 1:
        parser.error("--regions must be at least 1")
    return args


def build_session(args):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("catpool")
    if args.master:
        builder = builder.master(args.master)
    if args.driver_memory:
        builder = builder.config("spark.driver.memory", args.driver_memory)
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        .config("spark.sql.shuffle.partitions", str(max(args.regions, 2)))
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "65536")
    )
    return builder.getOrCreate()


def event_millis(column, timezone):
    """Event time in ms for sorting, from the forms catpool reads (docs/input.md); null when
    none matches (such a record sorts first in its region; catpool itself decides on it)."""
    from pyspark.sql import functions as F

    t = F.trim(F.translate(column, '"', ""))
    zone = timezone or "UTC"
    local = lambda ts: F.unix_millis(F.to_utc_timestamp(ts, zone)) if timezone else F.unix_millis(ts)  # noqa: E731
    iso = F.unix_millis(F.try_to_timestamp(t))  # the cast honours a written zone
    # the forms with a dash after the year first (ISO, date and time): the common case costs
    # one comparison and one cast; a written zone is looked for only when --timezone is given
    dated = F.when(t.rlike(r"(Z|[+-]\d\d(:?\d\d)?)$"), iso).otherwise(local(F.try_to_timestamp(t))) if timezone else iso
    return (
        F.when(F.substring(t, 5, 1) == "-", dated)
        .when(t.rlike(r"^\d{1,11}(\.\d+)?$"), (t.cast("double") * 1000).cast("long"))
        .when(t.rlike(r"^\d{12,13}$"), t.cast("long"))
        .when(t.rlike(r"^\d{14}$"), local(F.try_to_timestamp(t, F.lit("yyyyMMddHHmmss"))))
        .otherwise(iso)
    )


def main(argv):
    args = parse_args(argv)
    began = time.time()
    figures = {"regions": args.regions, "partitioning": args.partitioning}
    mapping = dict(m.split("=", 1) for m in args.map if "=" in m)
    catpool_args = []
    for m in args.map:
        catpool_args += ["--map", m]
    for m in args.map_type:
        catpool_args += ["--map-type", m]
    if args.timezone:
        catpool_args += ["--timezone", args.timezone]
    if args.profile:
        catpool_args += ["--profile", args.profile]
    catpool_args += args.catpool_arg

    cells = read_cells(args.cells) if args.cells else {}
    regions_of_site = site_regions(cells, args.regions, args.partitioning)

    def region_of_location(location):
        region = regions_of_site.get(location)
        return region if region is not None else hash_region(location, args.regions)

    spark = build_session(args)
    figures["seconds_session"] = round(time.time() - began, 3)
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    if os.path.isfile(args.catpool):
        sc.addFile(os.path.abspath(args.catpool))
    if args.cells and os.path.isfile(args.cells):
        sc.addFile(os.path.abspath(args.cells))
    if args.profile and os.path.isfile(args.profile):
        sc.addFile(os.path.abspath(args.profile))

    phase = time.time()
    if args.table:
        table = spark.read.parquet(args.table)
        names = {c.lower(): c for c in table.columns}
        present = [f for f in CONTRACT if mapping.get(f, f).lower() in names]
        missing = [f for f in REQUIRED if f not in present]
        if missing:
            fail(f"{args.table}: the table lacks {', '.join(missing)}", 65)
        col = {f: F.col(names[mapping.get(f, f).lower()]) for f in present}
        header = ",".join(mapping.get(f, f) for f in present)
        as_text = {}
        for f in present:
            c = col[f]
            dtype = table.schema[names[mapping.get(f, f).lower()]].dataType
            if f == "event_time" and isinstance(dtype, (T.TimestampType, T.TimestampNTZType)):
                c = F.date_format(F.to_utc_timestamp(c, "UTC"), "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            as_text[f] = F.coalesce(c.cast("string"), F.lit(""))
        records = table.select(
            F.concat_ws(",", *[as_text[f] for f in present]).alias("line"),
            as_text["imsi"].alias("imsi"),
            as_text["cell"].alias("cell"),
            F.upper(F.trim(as_text["record_type"])).alias("type"),
            (
                F.unix_millis(col["event_time"])
                if isinstance(table.schema[names[mapping.get("event_time", "event_time").lower()]].dataType, T.TimestampType)
                else event_millis(as_text["event_time"], args.timezone)
            ).alias("t"),
            F.monotonically_increasing_id().alias("n"),
            F.lit(0).cast("long").alias("place"),
        )
    else:
        for path in args.inputs:
            if not os.path.isfile(path):
                fail(f"{path}: no such file", 66)
        headers = {}
        for path in args.inputs:
            header = first_header(path)
            if header is not None:
                headers[path] = header
        if not headers:
            fail("the inputs hold no header and no record", 65)
        distinct = sorted(set(headers.values()))
        if len(distinct) > 1:
            fail("the dumps have different headers; convert them to one layout first: " + " | ".join(distinct), 65)
        header = distinct[0]
        delimiter, columns = header_layout(header, mapping)
        # the reading step: each compressed dump decompressed by zstd/gzip, one Spark task each
        scratch = args.scratch or tempfile.mkdtemp(prefix="catpool-spark-")
        if not args.scratch:
            atexit.register(shutil.rmtree, scratch, True)  # also when the job fails
        os.makedirs(scratch, exist_ok=True)
        jobs = [(i, os.path.abspath(p), os.path.join(os.path.abspath(scratch), f"{i:05d}.csv")) for i, p in enumerate(args.inputs)]

        def decompress(job):
            _, source, target = job
            command = decompress_command(source)
            if command is None:
                os.symlink(source, target)  # plain: read in place, under its input's number
                return target
            with open(target, "wb") as sink:
                subprocess.run(command, stdout=sink, check=True)
            return target

        compressed = [j for j in jobs if decompress_command(j[1])]
        plain = {j[0]: decompress(j) for j in jobs if not decompress_command(j[1])}
        if compressed:
            done = sc.parallelize(compressed, len(compressed)).map(lambda j: (j[0], decompress(j))).collect()
            plain.update(dict(done))
        figures["seconds_decompress"] = round(time.time() - phase, 3)
        phase = time.time()
        texts = [plain[i] for i in sorted(plain)]
        # Spark packs file splits into partitions largest first, so the ids it numbers rows with
        # follow one file's order but not the inputs' order: with several inputs a row's place
        # is (its input's number, its split's offset) and then the id, which runs on within a split
        lines = spark.read.text(texts).select(
            F.col("value").alias("line"),
            (
                F.substring(F.col("_metadata.file_name"), 1, 5).cast("long") * F.lit(1 << 44)
                + F.col("_metadata.file_block_start")
            ).alias("place"),
        )
        # blank lines, comments and headers (the first may carry a byte-order mark) are catpool's
        # to count; the job drops them and gives each region one header
        lines = lines.where(
            (F.trim("line") != "")
            & ~F.col("line").startswith("#")
            & ~F.col("line").isin(header, "\ufeff" + header)
        )
        fields = F.split(F.col("line"), re.escape(delimiter), -1)
        field = lambda name: F.trim(F.translate(F.element_at(fields, columns[name] + 1), '"', ""))  # noqa: E731
        records = lines.select(
            "line",
            field("imsi").alias("imsi"),
            field("cell").alias("cell"),
            F.upper(field("record_type")).alias("type"),
            event_millis(F.element_at(fields, columns["event_time"] + 1), args.timezone).alias("t"),
            F.monotonically_increasing_id().alias("n"),
            "place",
        )

    # locate: cell -> site -> region; a cell the table lacks is a location of its own
    cell_rows = [(cell, regions_of_site[site]) for cell, (site, _, _) in cells.items()]
    cell_table = spark.createDataFrame(cell_rows or [("", 0)], "cell string, cell_region int")
    located = records.join(F.broadcast(cell_table), "cell", "left").withColumn(
        "region",
        F.coalesce(F.col("cell_region"), F.pmod(F.crc32(F.col("cell")), F.lit(args.regions)).cast("int")),
    )
    # read once, used three times (first pass, anchors, routing): kept on local disk, not the heap
    located = located.select("line", "imsi", "type", "region", "t", "place", "n").persist(StorageLevel.DISK_ONLY)

    # first pass: the regions each SIM touches
    touched = located.groupBy("imsi").agg(F.collect_set("region").alias("regions"), F.count(F.lit(1)).alias("records"))
    touched = touched.persist()
    sums = touched.select(
        F.sum("records").alias("records"),
        F.sum(F.col("records") * F.size("regions")).alias("routed"),
        F.count(F.lit(1)).alias("sims"),
        F.sum(F.when(F.size("regions") > 1, 1).otherwise(0)).alias("crossing_sims"),
    ).collect()[0]
    figures["records"] = int(sums["records"] or 0)
    figures["routed_records"] = int(sums["routed"] or 0)
    figures["sims"] = int(sums["sims"] or 0)
    figures["sims_in_several_regions"] = int(sums["crossing_sims"] or 0)
    figures["duplication"] = round(figures["routed_records"] / figures["records"], 3) if figures["records"] else 0
    figures["seconds_read_and_first_pass"] = round(time.time() - phase, 3)

    # route: every record to every region its SIM touches; each region sorted by event time
    routed = located.join(touched.select("imsi", F.explode("regions").alias("target")), "imsi")
    # time anchors: the day's earliest and latest records that reach the detector (calls and
    # data) go to every region too, so that each region's catpool has seen the same span of
    # event time as one process (the hours of past it has watched, who was there from the
    # start, the last windows evaluated at the end); one record of a SIM makes no candidate
    admitted = {"MOC", "MTC", "DATA"} | {
        m.split("=", 1)[0].strip().upper() for m in args.map_type if m.split("=", 1)[-1].strip().upper() in ("MOC", "MTC", "DATA")
    }
    data = located.where(F.col("type").isin(sorted(admitted))).where(F.col("t").isNotNull())
    first = data.orderBy("t", "place", "n").limit(1)
    last = data.orderBy(F.desc("t"), F.desc("place"), F.desc("n")).limit(1)
    anchors = first.unionByName(last).distinct()
    everywhere = spark.range(args.regions).select(F.col("id").cast("int").alias("target"))
    anchors = (
        anchors.join(touched.select("imsi", "regions"), "imsi")
        .crossJoin(everywhere)
        .where(~F.array_contains(F.col("regions"), F.col("target")))
        .drop("regions")
    )
    routed = routed.unionByName(anchors.select(*routed.columns))
    partitions = args.partitions or args.regions
    order = args.order or ("event" if args.table else "arrival")
    arrival = ["place", "n"] if args.inputs and len(args.inputs) > 1 else ["n"]
    figures["order"] = order
    routed = (
        routed.select(
            F.col("target").cast("int").alias("target"),
            F.concat(F.col("line").cast("binary"), F.lit(b"\n")).alias("line"),
            "t",
            "place",
            "n",
        )
        .repartition(partitions, "target")  # hashed: no sampling pass; a task may get several regions
        # one long key sorts by radix (arrival); the regions of a partition are told apart later
        .sortWithinPartitions(*arrival if order == "arrival" else [F.col("t").asc_nulls_first(), *arrival])
        .select("target", "line")
    )
    runner = make_region_runner(os.path.abspath(args.catpool) if os.path.isfile(args.catpool) else args.catpool,
                                args.cells, catpool_args, header)
    phase = time.time()
    results = routed.mapInArrow(runner, "region int, seq int, line string").collect()
    figures["seconds_detect"] = round(time.time() - phase, 3)

    # keep each region's own decisions, merge clusters across regions
    per_region, kept = {}, []
    for row in results:
        if row["seq"] < 0:
            per_region[row["region"]] = json.loads(row["line"])
            continue
        decision = json.loads(row["line"])
        location = decision.get("site") or decision.get("location", "")
        if region_of_location(location) == row["region"]:
            kept.append((row["region"], row["seq"], decision, row["line"]))
    ids, summaries = merge_decisions(kept)
    order = sorted(kept, key=lambda k: (k[2]["detected_at"], int(ids[(k[0], k[2]["cluster_id"])][3:]), k[0], k[1]))
    with open(args.output, "w", encoding="utf-8") as out:
        for region, _, decision, line in order:
            merged = ids[(region, decision["cluster_id"])]
            out.write(ID_KEY.sub(f'"cluster_id":"{merged}"', line, count=1) + "\n")
    if args.clusters:
        with open(args.clusters, "w", encoding="utf-8") as out:
            for summary in summaries:
                out.write(json.dumps(summary, separators=(",", ":")) + "\n")
    figures["decisions"] = len(results) - len(per_region)
    figures["decisions_kept"] = len(kept)
    figures["clusters"] = len(summaries)
    figures["clusters_in_several_regions"] = sum(1 for s in summaries if len(s["regions"]) > 1)
    figures["region_records"] = {str(r): per_region[r]["records"] for r in sorted(per_region)}
    figures["region_catpool_seconds"] = {str(r): per_region[r]["seconds"] for r in sorted(per_region)}
    figures["catpool_cpu_seconds"] = round(sum(v["catpool_cpu"] for v in per_region.values()), 3)
    figures["pipe_python_cpu_seconds"] = round(sum(v["python_cpu"] for v in per_region.values()), 3)
    figures["seconds_total"] = round(time.time() - began, 3)
    located.unpersist()
    touched.unpersist()
    spark.stop()
    summary = (
        f"catpool_spark: {figures['records']} records, {figures['sims']} SIMs, {args.regions} regions "
        f"({args.partitioning}), duplication {figures['duplication']}x, {figures['clusters']} clusters "
        f"({figures['clusters_in_several_regions']} merged across regions), {figures['seconds_total']} s"
    )
    print(summary, file=sys.stderr)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=1)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
