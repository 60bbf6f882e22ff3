#!/usr/bin/env python3
"""Storage per reading, all in: 12 months of 10-minute readings for 100 meters, imported
with `headroom import` from the legacy monitor's CSV (made by the baseline's
gen_readings.py), then the database's own size divided by the readings it holds.

"All in" counts every byte of the reading blocks, the rollup blocks, the daily and weekly
rollups, their indexes and (PostgreSQL) TOAST — everything a reading costs."""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time

from lib import Client


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def sqlite_size(path):
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = con.execute("PRAGMA page_size").fetchone()[0]
    used = con.execute("PRAGMA page_count").fetchone()[0] - con.execute("PRAGMA freelist_count").fetchone()[0]
    tables = {}
    try:
        for name, size in con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"):
            tables[name] = size
    except sqlite3.OperationalError:
        pass  # dbstat not compiled into this SQLite: totals only
    readings = con.execute("SELECT SUM(count) FROM reading_blocks").fetchone()[0]
    con.close()
    return used * page, readings, tables


def pg_size(url):
    sql = """
      WITH parts AS (
        SELECT relid FROM pg_partition_tree('reading_blocks') UNION ALL
        SELECT relid FROM pg_partition_tree('rollup_blocks') UNION ALL
        SELECT 'daily_rollups'::regclass UNION ALL SELECT 'weekly_rollups'::regclass)
      SELECT json_build_object(
        'all_in', (SELECT SUM(pg_total_relation_size(relid)) FROM parts),
        'readings', (SELECT SUM(count) FROM reading_blocks),
        'database', pg_database_size(current_database()),
        'tables', (SELECT json_object_agg(t, s) FROM (
            SELECT 'reading_blocks' t, SUM(pg_total_relation_size(relid)) s FROM pg_partition_tree('reading_blocks')
            UNION ALL SELECT 'rollup_blocks', SUM(pg_total_relation_size(relid)) FROM pg_partition_tree('rollup_blocks')
            UNION ALL SELECT 'daily_rollups', pg_total_relation_size('daily_rollups')
            UNION ALL SELECT 'weekly_rollups', pg_total_relation_size('weekly_rollups')) x))"""
    out = run(["psql", url, "-tAc", "VACUUM ANALYZE"]) and run(["psql", url, "-tAc", sql]).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--database-url", required=True)
    p.add_argument("--csv-dir", required=True, help="folder with seed-*.csv legacy exports")
    p.add_argument("--meters", type=int, default=100)
    p.add_argument("--label", default="")
    a = p.parse_args()

    files = sorted(os.path.join(a.csv_dir, f) for f in os.listdir(a.csv_dir) if f.endswith(".csv"))
    c = Client(a.base)
    c.sign_in(a.email, a.password)
    meters = [c.json("POST", "/api/v1/meters", {"kind": "quota", "name": f"line {i}", "unit": "MB",
                                                "timezone": "UTC", "quota": 1048576, "reset_rule": "monthly:1"})["id"]
              for i in range(a.meters)]
    env = dict(os.environ, HEADROOM_DATABASE_URL=a.database_url, HEADROOM_LOG="warn")
    t0 = time.perf_counter()
    for i, m in enumerate(meters):
        run([a.binary, "import", "--meter", str(m), "--format", "legacy", files[i % len(files)]], env=env)
    took = time.perf_counter() - t0

    if a.database_url.startswith("sqlite:"):
        total, readings, tables = sqlite_size(a.database_url.split("://", 1)[1])
        budget = 40
    else:
        r = pg_size(a.database_url)
        total, readings, tables = r["all_in"], r["readings"], r["tables"]
        budget = 80
    per = total / readings
    print(f"{a.label:<10} storage: {readings:,} readings ({a.meters} meters x 12 months, 10-minute) take "
          f"{total / 1e6:,.1f} MB all in = {per:.1f} B/reading (budget {budget}); "
          f"import {readings / took:,.0f} readings/s")
    for name, size in sorted(tables.items(), key=lambda kv: -kv[1])[:8]:
        print(f"{'':<10}   {name:<28} {size / 1e6:8.1f} MB  {size / readings:6.2f} B/reading")
    print(json.dumps({"bench": "storage", "backend": a.label, "readings": readings, "bytes": total,
                      "bytes_per_reading": per}), file=sys.stderr)


if __name__ == "__main__":
    main()
