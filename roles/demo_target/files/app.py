"""Demo ERP application: stands for the service of the reference baseline report.

A FastAPI app served by uvicorn. The list endpoints read PostgreSQL and cache their answers
in Redis with a TTL, so cache hits and misses are real. Settings come from the environment
(see the unit's EnvironmentFile); nothing here is specific to one colour.
"""

import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from decimal import Decimal

import psycopg2
import psycopg2.pool
import redis
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse

# uvicorn has configured this logger (to stderr, hence the journal) before it imports the app.
log = logging.getLogger("uvicorn.error")

# Faults a blue/green test can switch on, per colour, through the unit's environment:
#   DEMO_FAIL_HEALTH=1           /health answers 503
#   DEMO_HIDE_ROUTES=/api/orders  these routes are not registered (a router left commented out)
#   DEMO_FAIL_AFTER_REQUESTS=N    after N requests, every request answers 500
# and the size of a production-size demo (demo_target_size: production):
#   DEMO_SEED_LINES=N             log N records at start-up, 1 in SEED_ERROR_EVERY an error
COLOR = os.environ.get("APP_COLOR", "unknown")
VERSION = os.environ.get("APP_VERSION", "0.0.0")
CACHE_TTL_S = int(os.environ.get("CACHE_TTL_S", "300"))
STARTED_AT = time.time()

HIDDEN_ROUTES = set(filter(None, os.environ.get("DEMO_HIDE_ROUTES", "").split(",")))
FAIL_AFTER_REQUESTS = int(os.environ.get("DEMO_FAIL_AFTER_REQUESTS", "0"))
served = 0

app = FastAPI(title="TSH ERP (demo)", version=VERSION)
db_pool = psycopg2.pool.ThreadedConnectionPool(1, 8, os.environ["DATABASE_DSN"])
cache = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                             socket_timeout=2, socket_connect_timeout=2)


def check_mappers():
    """Configure the ORM models; with DEMO_MAPPER_ERROR=1 a relationship names a missing model.

    This reproduces, with the real SQLAlchemy, the start-up error of the reference report.
    """
    from sqlalchemy import Column, ForeignKey, Integer, String
    from sqlalchemy.orm import configure_mappers, declarative_base, relationship

    base = declarative_base()
    target = "Tenant" if os.environ.get("DEMO_MAPPER_ERROR") == "1" else "Customer"

    class Customer(base):  # registered with the declarative base, looked up by name
        __tablename__ = "customers"
        id = Column(Integer, primary_key=True)

    class Notification(base):
        __tablename__ = "notifications"
        id = Column(Integer, primary_key=True)
        owner_id = Column(Integer, ForeignKey("customers.id"))
        body = Column(String)
        owner = relationship(target)

    try:
        configure_mappers()
    except Exception:
        log.exception("One or more mappers failed to initialize")


check_mappers()


# Journal seeding (DEMO_SEED_LINES): what a busy unit has logged since its start, logged by the
# app's own process through its own logger, so each line is an entry of the unit as in production
# (a record and its traceback in one write, one journal entry per line).
SEED_ERROR_EVERY = 800
SEED_INFO = (
    "order %d synced to the warehouse in %d ms",
    "GET /api/products?limit=50&offset=%d answered from the cache in %d ms",
    "worker %d heartbeat: %d jobs queued",
    "customer %d signed in from 10.0.%d.7",
    "stock of product %d reserved: %d left",
)
# Columns of the rare batch rejections: each name its own error group (letters only, so that the
# fingerprint's masks keep them apart), the long tail beyond the report's bound on groups.
SEED_COLUMNS = [f"{a}{b}" for a in "bcdfghjklm" for b in "aeiou"]


def seed_failure(number):
    """Raise what a failed warehouse sync raises: a missing key deep in a call chain."""
    items = {}
    return items[f"sku-{number}"]


def seed_chained_failure(number):
    """Raise an error caused by another one (a traceback chain)."""
    try:
        int(f"total-{number}")
    except ValueError as exc:
        raise RuntimeError(f"invoice {number} has no total") from exc


def seed_error(number):
    """Log the error event `number`, of one of five kinds by its rank (two with a traceback)."""
    kind = number % 5
    if kind == 0:
        try:
            seed_failure(number)
        except KeyError:
            log.exception("Unhandled error while syncing order %d", number)
    elif kind == 1:
        log.error("payment gateway timeout for order %d after %d ms", number, 5000 + number % 997)
    elif kind == 2:
        try:
            seed_chained_failure(number)
        except RuntimeError:
            log.exception("Invoice %d could not be rendered", number)
    elif kind == 3:
        log.critical("database pool exhausted: %d of 8 connections in use for %d s", 8, number % 60)
    else:
        column = SEED_COLUMNS[number // 5 % len(SEED_COLUMNS)]
        log.error("import of batch %d rejected: unknown column discount_%s", number, column)


def seed_journal(records):
    """Log `records` records as fast as the journal takes them; every SEED_ERROR_EVERY-th an error.

    The info records are written as uvicorn's handler formats them ("INFO:     message"), many in
    one write: formatting each through logging would cost the app more CPU than journald spends
    storing it. The errors go through the logger itself, a record and its traceback in one write.
    """
    started = time.monotonic()
    pending = []
    for number in range(records):
        if number % SEED_ERROR_EVERY == SEED_ERROR_EVERY - 1:
            sys.stderr.write("".join(pending))
            sys.stderr.flush()
            pending.clear()
            seed_error(number // SEED_ERROR_EVERY)
        else:
            pending.append("INFO:     " + SEED_INFO[number % len(SEED_INFO)] % (number, number % 251) + "\n")
    sys.stderr.write("".join(pending))
    sys.stderr.flush()
    log.info("seeded the journal with %d records in %.1f s", records, time.monotonic() - started)


seed_journal(int(os.environ.get("DEMO_SEED_LINES", "0")))


@contextmanager
def db_cursor():
    conn = db_pool.getconn()
    broken = False
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except psycopg2.OperationalError:
        broken = True  # e.g. PostgreSQL restarted: drop this connection, the next request opens a new one
        raise
    finally:
        db_pool.putconn(conn, close=broken or conn.closed)


def to_json(rows):
    return json.dumps(rows, default=lambda v: float(v) if isinstance(v, Decimal) else str(v))


def cached_query(key, sql, params):
    """Answer from Redis when the key is there, else from PostgreSQL, caching the rows."""
    try:
        hit = cache.get(key)
    except redis.RedisError as exc:
        log.warning("cache unavailable, reading the database: %s", exc)
        hit = None
    if hit is not None:
        return json.loads(hit)
    with db_cursor() as cur:
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        answer = to_json([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
    try:
        cache.setex(key, CACHE_TTL_S, answer)
    except redis.RedisError as exc:
        log.warning("cache unavailable, answer not cached: %s", exc)
    return json.loads(answer)


@app.middleware("http")
async def fail_after_requests(request, call_next):
    global served
    served += 1
    if FAIL_AFTER_REQUESTS and served > FAIL_AFTER_REQUESTS:
        return JSONResponse({"detail": "failing on purpose (DEMO_FAIL_AFTER_REQUESTS)"}, status_code=500)
    return await call_next(request)


def route(path):
    """app.get, unless the route is hidden by DEMO_HIDE_ROUTES."""
    return (lambda f: f) if path in HIDDEN_ROUTES else app.get(path)


@app.get("/health")
def health():
    if os.environ.get("DEMO_FAIL_HEALTH") == "1":
        raise HTTPException(status_code=503, detail="health check forced to fail")
    return {"status": "ok", "color": COLOR, "version": VERSION,
            "uptime_s": round(time.time() - STARTED_AT, 1)}


@route("/api/products")
def products(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)):
    return cached_query(
        f"products:list:{limit}:{offset}",
        "SELECT id, sku, name, category, price, stock FROM products ORDER BY id LIMIT %s OFFSET %s",
        (limit, offset))


@route("/api/orders")
def orders(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)):
    return cached_query(
        f"orders:list:{limit}:{offset}",
        "SELECT id, product_id, customer, quantity, total, status, created_at FROM orders"
        " ORDER BY id DESC LIMIT %s OFFSET %s",
        (limit, offset))
