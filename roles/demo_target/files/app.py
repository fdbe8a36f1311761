"""Demo ERP application: stands for the service of the reference baseline report.

A FastAPI app served by uvicorn. The list endpoints read PostgreSQL and cache their answers
in Redis with a TTL, so cache hits and misses are real. Settings come from the environment
(see the unit's EnvironmentFile); nothing here is specific to one colour.
"""

import json
import logging
import os
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
