-- The simple rule an analyst would write (the baseline of docs/detection.md), as DuckDB SQL
-- over the same dump catpool reads: per cell and 10-minute bucket of event time, the SIMs
-- whose own calls there were at least 90 % outbound are suspects; a bucket with at least 4
-- suspects placing at least 40 calls is flagged. Pipelines/bench.sh times it beside catpool.
--   duckdb -c ".read Pipelines/simple-rule.sql" with the dump as the variable `dump`,
--   or: python3 -c 'import duckdb,sys; duckdb.execute("SET VARIABLE dump = ?", [sys.argv[1]]);
--        print(duckdb.sql(open("Pipelines/simple-rule.sql").read()).fetchall())' day.csv.zst
WITH calls AS (
    SELECT cell, imsi, time_bucket(INTERVAL 10 MINUTE, event_time::TIMESTAMP) AS bucket,
           count(*) FILTER (WHERE record_type = 'MOC') AS calls_out,
           count(*) FILTER (WHERE record_type = 'MTC') AS calls_in
    FROM read_csv(getvariable('dump'), header = true, auto_detect = true, ignore_errors = true)
    WHERE record_type IN ('MOC', 'MTC')
    GROUP BY ALL
), suspects AS (
    SELECT cell, bucket, imsi, calls_out FROM calls
    WHERE calls_out >= 0.9 * (calls_out + calls_in)
)
SELECT cell, bucket, count(*) AS sims, sum(calls_out) AS calls
FROM suspects GROUP BY cell, bucket
HAVING count(*) >= 4 AND sum(calls_out) >= 40
ORDER BY bucket, cell;
