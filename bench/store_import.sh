#!/usr/bin/env bash
# `anneal runs add` into a fresh store: time (wall, client CPU) and disk use per stored point, for
#   big    one curve of 1,000,000 logged steps (step, lr, loss: 2M points), dense;
#   small  1,000 runs of 200 rows logged every 10 steps (step, lr, loss, val_loss every 100: 420k points), sparse;
#   corpus the gpt-tiny corpus CSVs (data/corpora/gpt-tiny: 30 real runs, 9,923 points), sparse.
# SQLite always; PostgreSQL too when ANNEAL_BENCH_POSTGRES=postgres://user:password@host:port/any_db names a server
# (databases store_import_* are created there). Usage: bench/store_import.sh [CLI_DIR [CASE...]] (default: the Release
# build, every case).
# docs/benchmarks.md records its output ("anneal runs add: bulk import and disk use").
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cli="${1:-$repo/src/Anneal.Cli/bin/Release/net10.0}/Anneal.Cli.dll"
[ -f "$cli" ] || { echo "error: $cli not found; build it (dotnet build src/Anneal.Cli -c Release) or pass its folder" >&2; exit 2; }
work="$(mktemp -d /tmp/anneal-store-import.XXXXXX)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'EOF'
import math, os, random, sys
work = sys.argv[1]
random.seed(1)
with open(os.path.join(work, "big.csv"), "w") as f:
    f.write("step,lr,loss\n")
    for s in range(1_000_000):
        lr = 3e-4 * min(1, s / 2000) * (0.5 * (1 + math.cos(math.pi * s / 1_000_000)))
        f.write(f"{s},{lr:.6e},{2.5 + 8 / math.sqrt(1 + s) + 0.05 * math.sin(s * 0.37):.6f}\n")
os.mkdir(os.path.join(work, "small"))
for i in range(1000):
    with open(os.path.join(work, "small", f"run{i:04d}.csv"), "w") as f:
        f.write("step,lr,loss,val_loss\n")
        floor = 2 + random.random()
        for k in range(200):
            s = 10 * k + 9
            v = f"{floor + 5 / math.sqrt(1 + s / 100) + 0.02:.6f}" if k % 10 == 9 else ""
            f.write(f"{s},{3e-4:.6e},{floor + 5 / math.sqrt(1 + s / 100) + 0.01 * random.random():.6f},{v}\n")
EOF
pg="${ANNEAL_BENCH_POSTGRES:-}"
cases=("${@:2}")
[ ${#cases[@]} -gt 0 ] || cases=(big small corpus)
for case in "${cases[@]}"; do
  case "$case" in
    big) inputs=("$work/big.csv") ;;
    small) inputs=("$work/small") ;;
    corpus) inputs=("$repo"/data/corpora/gpt-tiny/*.csv) ;;
  esac
  db="$work/$case.db"
  /usr/bin/time -f "$case sqlite: %e s wall, %U+%S s CPU (client), load $(cut -d' ' -f1 /proc/loadavg)" dotnet "$cli" runs add "${inputs[@]}" --store "$db" >/dev/null
  python3 - "$db" "$case" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
pts = c.execute("select count(*) from points").fetchone()[0]
bk = c.execute("select count(*) from point_buckets").fetchone()[0]
size = dict(c.execute("select name, sum(pgsize) from dbstat where name in ('points', 'point_buckets') group by name"))
print(f"{sys.argv[2]} sqlite: {pts} points, {bk} buckets; bytes per point: points {size['points'] / pts:.1f} + buckets {size['point_buckets'] / pts:.1f}")
EOF
  if [ -n "$pg" ]; then
    base="${pg%/*}"
    psql "$pg" -q -c "DROP DATABASE IF EXISTS store_import_$case" -c "CREATE DATABASE store_import_$case"
    /usr/bin/time -f "$case postgres: %e s wall, %U+%S s CPU (client), load $(cut -d' ' -f1 /proc/loadavg)" dotnet "$cli" runs add "${inputs[@]}" --store "$base/store_import_$case" >/dev/null
    psql "$base/store_import_$case" -q -t -A -c "SELECT '$case postgres: ' || (SELECT count(*) FROM points) || ' points, ' || (SELECT count(*) FROM point_buckets) || ' buckets; bytes per point: points ' || round(pg_total_relation_size('points')::numeric / (SELECT count(*) FROM points), 1) || ' + buckets ' || round(pg_total_relation_size('point_buckets')::numeric / (SELECT count(*) FROM points), 1)"
  fi
done
