-- Schema and data of the demo ERP database. Safe to run again: it creates what is missing only.
-- The database's comment records the version, so the playbook runs this once per version.
\set ON_ERROR_STOP on
BEGIN;
CREATE TABLE IF NOT EXISTS products (
  id serial PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  category text NOT NULL,
  brand text NOT NULL,
  supplier text NOT NULL,
  warehouse text NOT NULL,
  status text NOT NULL,
  price numeric(10, 2) NOT NULL,
  stock integer NOT NULL,
  weight_g integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS orders (
  id serial PRIMARY KEY,
  product_id integer NOT NULL REFERENCES products (id),
  customer text NOT NULL,
  channel text NOT NULL,
  region text NOT NULL,
  status text NOT NULL,
  quantity integer NOT NULL,
  total numeric(12, 2) NOT NULL,
  discount numeric(5, 2) NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  paid_at timestamptz,
  shipped_at timestamptz
);

INSERT INTO products (sku, name, category, brand, supplier, warehouse, status, price, stock,
                      weight_g, created_at, updated_at)
SELECT 'SKU-' || lpad(i::text, 6, '0'), 'Product ' || i,
       (ARRAY['tools', 'garden', 'kitchen', 'office', 'toys'])[1 + i % 5],
       'Brand ' || (i % 40), 'Supplier ' || (i % 25), 'WH-' || (i % 4),
       (ARRAY['active', 'active', 'active', 'discontinued'])[1 + i % 4],
       round((5 + (i * 37) % 995)::numeric, 2), (i * 13) % 500, 100 + (i * 7) % 5000,
       now() - (i % 720) * interval '1 hour', now() - (i % 48) * interval '1 hour'
FROM generate_series(1, 5000) AS i
WHERE NOT EXISTS (SELECT 1 FROM products);

INSERT INTO orders (product_id, customer, channel, region, status, quantity, total, discount,
                    created_at, updated_at, paid_at, shipped_at)
SELECT 1 + (i * 31) % 5000, 'customer-' || (i % 1500),
       (ARRAY['web', 'mobile', 'pos'])[1 + i % 3], (ARRAY['north', 'south', 'east', 'west'])[1 + i % 4],
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + i % 5],
       1 + i % 9, round(((1 + i % 9) * (5 + (i * 37) % 995))::numeric, 2), (i % 4) * 5,
       now() - (i % 2000) * interval '1 hour', now() - (i % 100) * interval '1 hour',
       CASE WHEN i % 5 > 0 THEN now() - (i % 1900) * interval '1 hour' END,
       CASE WHEN i % 5 > 1 THEN now() - (i % 1800) * interval '1 hour' END
FROM generate_series(1, 20000) AS i
WHERE NOT EXISTS (SELECT 1 FROM orders);

-- The "60+ performance indexes" of the reference report: one per filtered column, and
-- composite indexes for the listings by status and by date.
DO $$
DECLARE
  spec record;
  col text;
BEGIN
  FOR spec IN SELECT * FROM (VALUES
      ('products', ARRAY['name', 'category', 'brand', 'supplier', 'warehouse', 'status', 'price',
                         'stock', 'weight_g', 'created_at', 'updated_at']),
      ('orders', ARRAY['product_id', 'customer', 'channel', 'region', 'status', 'quantity', 'total',
                       'discount', 'created_at', 'updated_at', 'paid_at', 'shipped_at'])) AS t(tbl, cols)
  LOOP
    FOREACH col IN ARRAY spec.cols LOOP
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (%I)',
                     'ix_' || spec.tbl || '_' || col, spec.tbl, col);
      IF col NOT IN ('status', 'created_at') THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (status, %I)',
                       'ix_' || spec.tbl || '_status_' || col, spec.tbl, col);
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (created_at, %I)',
                       'ix_' || spec.tbl || '_created_' || col, spec.tbl, col);
      END IF;
    END LOOP;
  END LOOP;
END $$;

ANALYZE products;
ANALYZE orders;
COMMENT ON DATABASE :"dbname" IS 'demo_schema=1';
COMMIT;
