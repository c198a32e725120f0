"""CozoDB's side of factlite-bench --peers, on its SQLite engine.

Reads the generated people (a JSON array of [name, last-name, sex, age,
salary]) into one relation per attribute, {e: Int => v}, each with an index
on (v, e); runs DataScript's queries at the two scales and the add-5 and
add-all writes; prints one line per workload: "SCALE WORKLOAD COUNT MS"
(SCALE: the people loaded, or "writes"; MS: the median of QUERY_ROUNDS or
WRITE_ROUNDS runs).

python cozo.py WORK_DIR DATA.json QUERY_ROUNDS WRITE_ROUNDS SMALL LARGE ADD5 ADDALL
"""

import json
import os
import statistics
import sys
import time

from pycozo.client import Client

work, data_file, query_rounds, write_rounds, small, large, add_five, add_all = sys.argv[1:]
with open(data_file) as f:
    people = json.load(f)

ATTRIBUTES = [("name", "String"), ("last_name", "String"), ("sex", "String"),
              ("age", "Int"), ("salary", "Int")]
databases = iter(range(1_000_000))


def fresh():
    """A new database with the five relations and their indexes."""
    client = Client("sqlite", os.path.join(work, f"cozo-{next(databases)}.db"), dataframe=False)
    for name, kind in ATTRIBUTES:
        client.run(f":create {name} {{e: Int => v: {kind}}}")
        client.run(f"::index create {name}:by_v {{v, e}}")
    return client


def put_all(client, rows):
    """Every attribute of the rows [e, person] in one transaction."""
    script = " ".join(
        f"{{?[e, v] <- $r{i} :put {name} {{e => v}}}}" for i, (name, _) in enumerate(ATTRIBUTES))
    params = {f"r{i}": [[e, p[i]] for e, p in rows] for i in range(len(ATTRIBUTES))}
    client.run(script, params)


def datoms(client):
    return sum(client.run(f"?[count(e)] := *{name}{{e}}")["rows"][0][0] for name, _ in ATTRIBUTES)


def median(rounds, run):
    times, count = [], 0
    for _ in range(int(rounds)):
        started = time.perf_counter()
        count = run()
        times.append((time.perf_counter() - started) * 1000)
    return count, statistics.median_low(times)


QUERIES = [
    ("q1", "?[e] := *name{e, v: 'Ivan'}", {}),
    ("q2", "?[e, a] := *name{e, v: 'Ivan'}, *age{e, v: a}", {}),
    ("q2-switch", "?[e, a] := *age{e, v: a}, *name{e, v: 'Ivan'}", {}),
    ("q3", "?[e, a] := *name{e, v: 'Ivan'}, *age{e, v: a}, *sex{e, v: 'male'}", {}),
    ("q4", "?[e, l, a] := *name{e, v: 'Ivan'}, *last_name{e, v: l}, *age{e, v: a}, "
           "*sex{e, v: 'male'}", {}),
    ("qpred1", "?[e, s] := *salary{e, v: s}, s > 50000", {}),
    ("qpred2", "?[e, s] := *salary{e, v: s}, s > $min_s", {"min_s": 50000}),
]

for size in (int(small), int(large)):
    client = fresh()
    put_all(client, list(enumerate(people[:size], start=1)))
    for name, query, params in QUERIES:
        count, ms = median(query_rounds, lambda: len(client.run(query, params)["rows"]))
        print(f"{size} {name} {count} {ms}", flush=True)


def add_each():
    client = fresh()
    for e, person in enumerate(people[:int(add_five)], start=1):
        put_all(client, [(e, person)])
    return datoms(client)


def add_together():
    client = fresh()
    put_all(client, list(enumerate(people[:int(add_all)], start=1)))
    return datoms(client)


for name, workload in (("add-5", add_each), ("add-all", add_together)):
    count, ms = median(write_rounds, workload)
    print(f"writes {name} {count} {ms}", flush=True)
