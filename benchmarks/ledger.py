"""Ledger benchmarks (issue 3, ledger.md §6). Prints figures and ratios; these are not tests.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/icdev_bench_ledger .venv/bin/python benchmarks/ledger.py

The database named in DATABASE_URL is created when missing and its ledger tables are TRUNCATEd:
use a dedicated one. Phases (each can be skipped):
  appends     appends/s accepted with 1 and 8 concurrent writer processes (the real ``append_entry``
              path: validation, HMAC, RFC 8785, policy checks, pending insert) while the integrator
              runs, with p50/p99 latency; and, in the same run, a naive chain that locks a head row
              with SELECT … FOR UPDATE, printed as a ratio
  sqlite      inline appends/s on an SQLite file (WAL), the embedded default
  large       1,000,000 entries: integrator throughput, full verification entries/s, inclusion and
              consistency proof latency at that size, and the admin pages a reviewer opens on it
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MODEL = {"model_id": "bench-model", "provider": "bench", "model_version": "1"}
OWNER = {"kind": "user", "id": "bench-reviewer"}


def action(n: int) -> dict:
    return {
        "entry_type": "action",
        "actor": MODEL,
        "action": {
            "type": "eligibility.score",
            "description": f"Scored application APP-{n} for the benefits queue",
            "inputs": ["income fields", "household size"],
            "outputs": ["score band B"],
            "rationale": "Routine scoring under the approved oversight plan.",
        },
        "context": {"task_id": f"TASK-{n % 1000}"},
        "accountability": {
            "human_oversight": "audit",
            "reversibility": "reversible",
            "responsibility": {"oversight": OWNER},
        },
        "project_key": "bench",
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else 0.0


def setup_django() -> None:
    os.environ.setdefault("ICDEV_ENV", "development")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG records every query in memory: not what production runs
    os.environ["DJANGO_SETTINGS_MODULE"] = "icdev.settings"
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = url.replace(parsed.path, "/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def reset() -> None:
    """Empty the ledger and create the bench project with a scope grant for the bench model."""
    from django.db import connection

    from accountability.actors import SystemActor
    from accountability.ledger.services.grants import scope_grant_create
    from accountability.models import Project

    tables = [
        "ledger_ledgerentry",
        "ledger_pendingentry",
        "ledger_ledgerhead",
        "ledger_ledgertile",
        "ledger_checkpoint",
        "ledger_verificationrun",
        "ledger_scopegrant",
        "ledger_historicalscopegrant",
    ]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
        else:
            for table in tables:
                cur.execute(f"DELETE FROM {table}")
    project, _ = Project.objects.get_or_create(key="bench", defaults={"name": "Bench", "organization": "Bench"})
    scope_grant_create(
        actor=SystemActor("bench:setup"), project=project, model_id="bench-model", action_types=["eligibility.*"]
    )


# --- appends ------------------------------------------------------------------------------------------


def machine_ticks() -> tuple[int, int]:
    """(busy, stolen) clock ticks of the whole machine so far, from /proc/stat's first line: busy is
    user, nice, system, irq and softirq time; stolen is time the hypervisor gave to other machines.
    (0, 0) where there is no /proc/stat. The CPU an accepted append costs the machine, writers,
    integrator, PostgreSQL and kernel together, is steadier than appends/s when neighbours on the
    same host come and go, and it tells how far a target is: 5,000/s on 2 cores is 400 µs each."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal


def cpu_per_append_us(before: tuple[int, int], after: tuple[int, int], appends: int) -> tuple[float, float]:
    """Machine busy and stolen CPU per append in µs between two ``machine_ticks`` readings."""
    hz = os.sysconf("SC_CLK_TCK")
    if not appends:
        return 0.0, 0.0
    return tuple((a - b) / hz / appends * 1e6 for a, b in zip(after, before, strict=True))


def _writer(index: int, seconds: float, start, results, mode: str, intake: str) -> None:
    from django.conf import settings
    from django.db import connection

    from accountability.ledger.append import append_entry

    settings.ICDEV_LEDGER_MODE = mode
    settings.ICDEV_LEDGER_INTAKE_SOCKET = intake
    connection.close()
    append_entry(**action(-1 - index))  # connect and warm up outside the measurement
    latencies = []
    start.wait()
    deadline = time.perf_counter() + seconds
    n = index * 10_000_000
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        append_entry(**action(n))
        latencies.append(time.perf_counter() - t0)
        n += 1
    results.put(latencies)
    connection.close()


def _integrator(stop, results) -> None:
    from django.db import connection

    from accountability.ledger.models import PendingEntry
    from accountability.ledger.store import integrate_batch

    connection.close()
    done, busy = 0, 0.0
    while True:  # as manage.py ledger_integrate does: a tick every 100 ms unless a batch was full
        t0 = time.perf_counter()
        n = integrate_batch(5000) or 0
        busy += time.perf_counter() - t0
        done += n
        if stop.is_set() and not n and not PendingEntry.objects.exists():
            break
        if n < 5000:
            time.sleep(0.1)
    results.put((done, busy, time.perf_counter()))
    connection.close()


def _intake(path: str, stop, results) -> None:
    from django.db import connection

    from accountability.ledger.intake import Intake

    connection.close()
    totals = Intake(path).serve(stop)
    results.put((totals.batches, totals.rows))
    connection.close()


def bench_appends(writers: int, seconds: float, mode: str = "queue", intake: bool = False) -> dict:
    """The full append path; ``queue`` (pending table + integrator; with ``intake``, each append is
    sent to ``ledger_intake``, which commits what arrives together in one statement) or ``inline``
    (each append locks the head row FOR UPDATE and extends the chain and tree in its own
    transaction: the naive design, with exactly the same per-entry work)."""
    from django.db import connection

    from accountability.ledger.models import LedgerEntry, LedgerHead

    reset()
    connection.close()
    ctx = mp.get_context("fork")
    start, stop, results, integ = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
    path = os.path.join(tempfile.mkdtemp(prefix="icdev-intake-"), "intake.sock") if intake else ""
    intake_stop, intake_results = ctx.Event(), ctx.Queue()
    if intake:
        server = ctx.Process(target=_intake, args=(path, intake_stop, intake_results))
        server.start()
        while not os.path.exists(path):
            time.sleep(0.01)
    procs = [ctx.Process(target=_writer, args=(i, seconds, start, results, mode, path)) for i in range(writers)]
    integrator = ctx.Process(target=_integrator, args=(stop, integ))
    integrator.start()
    for p in procs:
        p.start()
    time.sleep(1.0)  # let every writer connect and warm up
    ticks = machine_ticks()
    start.set()
    latencies = [x for _ in procs for x in results.get()]
    writers_done = time.perf_counter()
    for p in procs:
        p.join()
    batches = rows = 0
    if intake:
        intake_stop.set()
        batches, rows = intake_results.get()
        server.join()
    stop.set()
    integrated, busy, integrator_done = integ.get()
    # Until the backlog is integrated: the integrator's work for these appends counts too.
    cpu_us, steal_us = cpu_per_append_us(ticks, machine_ticks(), len(latencies))
    integrator.join()
    size = LedgerHead.objects.get().size
    seqs = LedgerEntry.objects.count()
    assert seqs == size, "gap in the sequence"
    return {
        "writers": writers,
        "appends": len(latencies),
        "per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "drain_s": max(0.0, integrator_done - writers_done),
        "integrated_per_busy_s": integrated / busy if busy else 0.0,
        "size": size,
        "cpu_us": cpu_us,
        "steal_us": steal_us,
        "mean_batch": rows / batches if batches else 0.0,
    }


NAIVE_SQL = """
CREATE TABLE IF NOT EXISTS bench_naive_head (id int PRIMARY KEY, seq bigint NOT NULL, hash bytea NOT NULL);
CREATE TABLE IF NOT EXISTS bench_naive_chain (seq bigint PRIMARY KEY, prev bytea UNIQUE NOT NULL,
  hash bytea NOT NULL, payload bytea NOT NULL);
TRUNCATE bench_naive_head, bench_naive_chain;
INSERT INTO bench_naive_head VALUES (1, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000');
"""


def _naive_writer(url: str, index: int, seconds: float, start, results) -> None:
    """The seed's plain chain: lock the head row, read the previous hash, insert, commit."""
    import psycopg

    payload = os.urandom(600)
    latencies = []
    with psycopg.connect(url) as conn:
        start.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            with conn.transaction():
                seq, prev = conn.execute("SELECT seq, hash FROM bench_naive_head WHERE id = 1 FOR UPDATE").fetchone()
                h = hashlib.sha256(b"\x00" + prev + hashlib.sha256(payload).digest()).digest()
                conn.execute("INSERT INTO bench_naive_chain VALUES (%s, %s, %s, %s)", [seq + 1, prev, h, payload])
                conn.execute("UPDATE bench_naive_head SET seq = %s, hash = %s WHERE id = 1", [seq + 1, h])
            latencies.append(time.perf_counter() - t0)
    results.put(latencies)


def _bare_pending_writer(url: str, index: int, seconds: float, start, results) -> None:
    """The pending table alone: one INSERT per transaction, no lock, no chain (entries pre-built)."""
    import psycopg

    from accountability.ledger.build import build
    from accountability.ledger.store import ENTRY_COLUMNS

    base = build(**action(index)).prepared()
    cols = ", ".join(ENTRY_COLUMNS)
    sql = f"INSERT INTO ledger_pendingentry ({cols}) VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})"
    latencies, n = [], 0
    with psycopg.connect(url, autocommit=True) as conn:
        start.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            values = [getattr(base, c) for c in ENTRY_COLUMNS]
            values[0] = f"LED-B{index:02d}{n:021d}"
            t0 = time.perf_counter()
            conn.execute(sql, values)
            latencies.append(time.perf_counter() - t0)
            n += 1
    results.put(latencies)


def bench_bare_pending(url: str, writers: int, seconds: float) -> dict:
    from django.db import connection

    reset()
    connection.close()
    ctx = mp.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_bare_pending_writer, args=(url, i, seconds, start, results)) for i in range(writers)]
    for p in procs:
        p.start()
    time.sleep(1.0)
    start.set()
    latencies = [x for _ in procs for x in results.get()]
    for p in procs:
        p.join()
    reset()
    return {
        "per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
    }


def bench_naive(url: str, writers: int, seconds: float) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(NAIVE_SQL)
    ctx = mp.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_naive_writer, args=(url, i, seconds, start, results)) for i in range(writers)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    start.set()
    latencies = [x for _ in procs for x in results.get()]
    for p in procs:
        p.join()
    return {
        "writers": writers,
        "per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
    }


# --- SQLite --------------------------------------------------------------------------------------------


def bench_sqlite_inline(seconds: float) -> dict:
    """Run in a child process whose DATABASE_URL is an SQLite file (settings are per process)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    reset()
    from accountability.ledger.append import append_entry

    append_entry(**action(0))
    latencies, n = [], 1
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        append_entry(**action(n))
        latencies.append(time.perf_counter() - t0)
        n += 1
    return {
        "per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
    }


# --- 1,000,000 entries ---------------------------------------------------------------------------------


def _generate(lo: int, hi: int) -> None:
    """Prepare entries lo..hi (real RFC 8785 payloads, salts and commitments) and COPY them into the queue."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from accountability.ledger.build import build
    from accountability.ledger.models import PendingEntry
    from accountability.ledger.store import ENTRY_COLUMNS

    connection.close()
    base = build(**action(0)).prepared()
    doc = base.payload.decode()
    now = timezone.now()
    rows = []
    from accountability.ledger.offline.formats import payload_hash
    from accountability.ledger.store import new_entry_id

    for n in range(lo, hi):
        entry_id = new_entry_id()
        payload = doc.replace(base.entry_id, entry_id).replace("APP-0 ", f"APP-{n} ").encode()
        salt = os.urandom(16)
        rows.append(
            (
                entry_id,
                "action",
                "bench",
                "",
                f"TASK-{n % 1000}",
                base.actor_ref,
                base.action_type,
                "audit",
                "reversible",
                now - dt.timedelta(seconds=hi - n),
                now,
                "P90D",
                now + dt.timedelta(days=89),
                payload,
                salt,
                payload_hash(salt, payload),
                "",
                "",
            )
        )
    cols = ", ".join(ENTRY_COLUMNS)
    with connection.cursor() as cur, cur.cursor.copy(f"COPY {PendingEntry._meta.db_table} ({cols}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
    connection.close()


def bench_large(entries: int, samples: int, reuse: bool = False) -> dict:
    from django.db import connection

    from accountability.actors import SystemActor
    from accountability.ledger import tiles
    from accountability.ledger.models import Checkpoint, LedgerEntry, LedgerHead
    from accountability.ledger.offline import merkle
    from accountability.ledger.selectors import entry_get, entry_inclusion
    from accountability.ledger.services.verification import ledger_verify
    from accountability.ledger.store import integrate_batch, sign_checkpoint_if_behind

    head = LedgerHead.objects.filter(pk=1).first()
    generated, total, integrate_s = 0.0, 0, 0.0
    if not (reuse and head is not None and head.size >= entries):
        reset()
        connection.close()
        t0 = time.perf_counter()
        chunk = 50_000
        ctx = mp.get_context("fork")
        for lo in range(0, entries, chunk * 2):
            procs = [
                ctx.Process(target=_generate, args=(a, min(a + chunk, entries)))
                for a in (lo, lo + chunk)
                if a < entries
            ]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
        generated = time.perf_counter() - t0
        t0 = time.perf_counter()
        while n := integrate_batch(5000):
            total += n
        integrate_s = time.perf_counter() - t0
    # A live log signs a checkpoint within a tick of growing; a reused one may have stopped with its
    # tail unsigned, or have only checkpoints from before they stored their compact range (the proofs'
    # right edge then takes a second read): sign the head as the integrator would.
    sign_checkpoint_if_behind()
    latest = Checkpoint.objects.order_by("-tree_size").values_list("compact_range", flat=True).first()
    size = LedgerHead.objects.get().size
    system = SystemActor("bench:verify")
    report = ledger_verify(actor=system).report
    assert report.ok, report.problems[:3]
    # Inclusion proofs as the API serves them (EntryDetailView): read the entry by id, then build its
    # proof against the latest checkpoint. Cold = tile cache emptied before each proof; warm = the
    # process cache as it fills. The proof alone (entry_inclusion for an entry already read) is timed
    # on its own too: the entry read is the same for every entry view, proof or not.
    rng = random.Random(5)
    indices = [rng.randrange(size) for _ in range(samples)]
    ids = dict(LedgerEntry.objects.filter(seq__in=indices).values_list("seq", "entry_id"))
    cold, proof_only, warm, verify_us = [], [], [], []
    checkpoint_root = None
    for i, seq in enumerate(indices):
        tiles.clear_cache()
        t = time.perf_counter()
        entry = entry_get(system, ids[seq])
        inclusion = entry_inclusion(entry)
        cold.append(time.perf_counter() - t)
        tiles.clear_cache()
        t = time.perf_counter()
        inclusion = entry_inclusion(entry)
        proof_only.append(time.perf_counter() - t)
        t = time.perf_counter()
        inclusion = entry_inclusion(entry)
        warm.append(time.perf_counter() - t)
        checkpoint_root = bytes(inclusion.checkpoint.root)
        t = time.perf_counter()
        ok = merkle.verify_inclusion(
            seq, inclusion.checkpoint.tree_size, bytes(entry.entry_hash), inclusion.path, checkpoint_root
        )
        verify_us.append(time.perf_counter() - t)
        assert ok, seq
        if i == 0:
            proof_hashes = len(inclusion.path)
    consistency = []
    tree = tiles.StoredTree()
    for _ in range(200):
        old = rng.randrange(1, size)
        t = time.perf_counter()
        tree.consistency_proof(old, size)
        consistency.append(time.perf_counter() - t)
    return {
        "entries": size,
        "generate_s": generated,
        "integrated": total,
        "integrate_per_s": total / integrate_s if integrate_s else 0.0,
        "verify_per_s": report.entries_per_second,
        "verify_s": report.seconds,
        "proof_hashes": proof_hashes,
        "compact_range_stored": latest is not None,
        "proof_cold_p50_ms": statistics.median(cold) * 1000,
        "proof_cold_p99_ms": pct(cold, 0.99) * 1000,
        "proof_only_p50_ms": statistics.median(proof_only) * 1000,
        "proof_only_p99_ms": pct(proof_only, 0.99) * 1000,
        "proof_warm_p50_ms": statistics.median(warm) * 1000,
        "proof_warm_p99_ms": pct(warm, 0.99) * 1000,
        "proof_verify_us": statistics.median(verify_us) * 1e6,
        "consistency_p50_ms": statistics.median(consistency) * 1000,
        "consistency_p99_ms": pct(consistency, 0.99) * 1000,
    }


BROWSE_PAGES = {
    "admin: the log, newest first": "/admin/ledger/ledgerentry/",
    "admin: filtered by type": "/admin/ledger/ledgerentry/?entry_type__exact=action",
    "admin: filtered by actor": "/admin/ledger/ledgerentry/?actor=model%3Abench-model",
    "admin: search by task id": "/admin/ledger/ledgerentry/?q=TASK-7",
    "admin: search with no match": "/admin/ledger/ledgerentry/?q=nothing-like-this",
    "admin: one entry (proof, document)": "/admin/ledger/ledgerentry/500000/change/",
    "admin: metrics, 30 days": "/admin/ledger/ledgerentry/metrics/",
    "API: entry list, first page": "/api/v1/ai-accountability/ledger/entries",
    "API: entry list, by actor": "/api/v1/ai-accountability/ledger/entries?actor=model%3Abench-model",
    # The cursor the list issues for "entries below seq 500,000" (base64 of p=500000).
    "API: entry list, mid-log cursor": "/api/v1/ai-accountability/ledger/entries?cursor=cD01MDAwMDA%3D",
    "API: audit, actions by model": "/api/v1/ai-accountability/ledger/audit/by-model?model_id=bench-model&limit=50",
}


def bench_browse(rounds: int) -> dict[str, tuple[float, float, int]]:
    """Pages a reviewer opens on a large log, through Django's test client as a superuser: name ->
    (p50 ms, p99 ms, status). VACUUM ANALYZE first, as autovacuum does on a live server: this
    machine's PostgreSQL runs with autovacuum off, so the queue table keeps the dead rows of every
    entry ever integrated (1.4 GB after a million) and the log has no statistics for the planner."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE ledger_pendingentry")
        cur.execute("ANALYZE ledger_ledgerentry")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = get_user_model().objects.get_or_create(
        username="bench-superuser", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    from accountability.ledger.models import LedgerEntry

    pages = dict(BROWSE_PAGES)
    middle = LedgerEntry.objects.filter(seq=500_000).values_list("entry_id", flat=True).first()
    if middle:
        pages["API: one entry with its proof"] = f"/api/v1/ai-accountability/ledger/entries/{middle}"
    found = {}
    for name, url in pages.items():
        client.get(url)  # warm: templates compiled, statements planned
        times, status = [], 0
        for _ in range(rounds):
            t = time.perf_counter()
            status = client.get(url).status_code
            times.append(time.perf_counter() - t)
        found[name] = (statistics.median(times) * 1000, pct(times, 0.99) * 1000, status)
    return found


def _print_queued(title: str, r: dict) -> None:
    """One queued run's lines: throughput and latency, then the machine's CPU per append."""
    print(
        f"  pending table + integrator, {title}: {r['per_s']:.0f} appends/s, p50 {r['p50_ms']:.2f} ms, "
        f"p99 {r['p99_ms']:.2f} ms; integrator {r['integrated_per_busy_s']:.0f} entries/s when busy, "
        f"backlog drained {r['drain_s']:.2f} s after the writers stopped; gap-free, size {r['size']}"
    )
    print(
        "    machine CPU per accepted append (writers, integrator, PostgreSQL, kernel): "
        f"{r['cpu_us']:.0f} µs (stolen by the host: {r['steal_us']:.0f} µs); {os.cpu_count()} CPUs allow "
        f"{(os.cpu_count() or 1) * 1e6 / r['cpu_us']:.0f} appends/s at that cost"
        if r["cpu_us"]
        else "    machine CPU per append: no /proc/stat here"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each append run")
    parser.add_argument("--writers", default="1,8", help="writer counts for the append runs")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000, help="inclusion proofs to time")
    parser.add_argument("--skip", default="", help="comma-separated phases to skip: appends,sqlite,large")
    parser.add_argument(
        "--reuse", action="store_true", help="large: keep an existing log of ≥ --entries entries (skips integration)"
    )
    parser.add_argument("--browse-rounds", type=int, default=20, help="large: requests per admin/API page timed")
    parser.add_argument("--sqlite-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sqlite_child:
        setup_django()
        result = bench_sqlite_inline(args.seconds)
        print(f"RESULT {result['per_s']:.0f} {result['p50_ms']:.3f} {result['p99_ms']:.3f}")
        return 0
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print(
            "Set DATABASE_URL to a dedicated PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/icdev_bench_ledger"
        )
        return 2
    skip = set(filter(None, args.skip.split(",")))
    ensure_database(url)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"ledger benchmarks on {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")

    if "appends" not in skip:
        print("\n== appends (PostgreSQL); accepted = committed (to the pending table, or to the chain inline)")
        for writers in [int(w) for w in args.writers.split(",")]:
            grouped = bench_appends(writers, args.seconds, "queue", intake=True)
            ours = bench_appends(writers, args.seconds, "queue")
            inline = bench_appends(writers, args.seconds, "inline")
            bare = bench_bare_pending(url, writers, args.seconds)
            naive = bench_naive(url, writers, args.seconds)
            print(f"{writers} writer(s), full append path (validation, HMAC, RFC 8785, policy checks):")
            _print_queued("ledger_intake (group commit)", grouped)
            print(f"    rows per commit: {grouped['mean_batch']:.2f} on average")
            _print_queued("one commit per append", ours)
            print(
                f"  naive: head row FOR UPDATE:   {inline['per_s']:7.0f} appends/s, p50 {inline['p50_ms']:.2f} ms, "
                f"p99 {inline['p99_ms']:.2f} ms  -> ratio {grouped['per_s'] / inline['per_s']:.2f}x (intake), "
                f"{ours['per_s'] / inline['per_s']:.2f}x (one commit per append)"
            )
            print(f"{writers} writer(s), storage alone (pre-built entries, raw SQL):")
            print(
                f"  pending INSERT, no lock:      {bare['per_s']:7.0f} appends/s, p50 {bare['p50_ms']:.2f} ms, "
                f"p99 {bare['p99_ms']:.2f} ms"
            )
            print(
                f"  naive chain, FOR UPDATE:      {naive['per_s']:7.0f} appends/s, p50 {naive['p50_ms']:.2f} ms, "
                f"p99 {naive['p99_ms']:.2f} ms  -> ratio {bare['per_s'] / naive['per_s']:.2f}x"
            )

    if "sqlite" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
            out = subprocess.run(  # noqa: S603 - this script, re-run with fixed arguments
                [sys.executable, __file__, "--sqlite-child", "--seconds", str(args.seconds)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            per_s, p50, p99 = out.stdout.split("RESULT ")[1].split()
        print(
            f"\n== SQLite inline appends (WAL, synchronous=NORMAL as configured): {float(per_s):.0f} appends/s, "
            f"p50 {float(p50):.2f} ms, p99 {float(p99):.2f} ms"
        )

    if "large" not in skip:
        print(f"\n== {args.entries:,} entries (PostgreSQL)")
        r = bench_large(args.entries, args.samples, args.reuse)
        if r["integrated"]:
            print(
                f"generated and queued in {r['generate_s']:.1f} s; integrator {r['integrate_per_s']:.0f} entries/s "
                f"(batches of 5,000, moved on the server)"
            )
        else:
            print("reused the existing log (--reuse): integrator not measured")
        print(
            f"full verification: {r['verify_per_s']:.0f} entries/s per process ({r['entries']:,} entries in "
            f"{r['verify_s']:.1f} s)"
        )
        print(
            f"inclusion proof at {r['entries']:,}: {r['proof_hashes']} hashes; cold tile cache: the proof alone "
            f"p50 {r['proof_only_p50_ms']:.2f} ms p99 {r['proof_only_p99_ms']:.2f} ms; with the entry read by id "
            f"(the API's entry view) p50 {r['proof_cold_p50_ms']:.2f} ms p99 {r['proof_cold_p99_ms']:.2f} ms; warm "
            f"(proof alone) p50 {r['proof_warm_p50_ms']:.2f} ms p99 {r['proof_warm_p99_ms']:.2f} ms; verify "
            f"{r['proof_verify_us']:.0f} µs (latest checkpoint {'stores' if r['compact_range_stored'] else 'lacks'} "
            "its compact range)"
        )
        print(f"consistency proof: p50 {r['consistency_p50_ms']:.2f} ms, p99 {r['consistency_p99_ms']:.2f} ms")
        print(f"pages at {r['entries']:,} entries (whole response, test client, {args.browse_rounds} each):")
        for name, (p50, p99, status) in bench_browse(args.browse_rounds).items():
            print(f"  {name:36s} p50 {p50:7.1f} ms, p99 {p99:7.1f} ms (HTTP {status})")
    print(f"\nload average at end {os.getloadavg()[0]:.2f} (other work on the machine depresses these figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
