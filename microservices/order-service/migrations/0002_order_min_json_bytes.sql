-- Up Migration
-- A lower bound of each order's JSON size (text octets plus the keys and numbers), kept with the order:
-- a page is then measured from the orders alone, not from every item of every candidate order (a
-- `?limit=1000` listing used to sum the octets of up to 100,000 item rows to return a dozen orders).
ALTER TABLE orders ADD COLUMN min_json_bytes integer;
UPDATE orders o
   SET min_json_bytes = octet_length(o.id) + octet_length(o.user_id) + octet_length(o.shipping_address) + 150
     + COALESCE((SELECT sum(octet_length(i.product_id) + octet_length(i.product_name) + 50)
                   FROM order_items i WHERE i.order_id = o.id), 0);
ALTER TABLE orders ALTER COLUMN min_json_bytes SET NOT NULL;

-- Down Migration
ALTER TABLE orders DROP COLUMN min_json_bytes;
