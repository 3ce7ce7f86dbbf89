-- Up Migration
-- A lower bound of each order's JSON size, kept with the order: its texts as JSON strings (escapes and
-- quotes included, so a name of control characters counts six bytes each, as on the wire), its status,
-- and the keys, numbers and timestamps at their shortest. A page is then measured from the orders alone,
-- not from every item of every candidate order (a `?limit=1000` listing summed up to 100,000 item rows).
ALTER TABLE orders ADD COLUMN min_json_bytes integer;
UPDATE orders o
   SET min_json_bytes = octet_length(to_json(o.id)::text) + octet_length(to_json(o.user_id)::text)
     + octet_length(to_json(o.shipping_address)::text) + octet_length(o.status) + 150
     + COALESCE((SELECT sum(octet_length(to_json(i.product_id)::text) + octet_length(to_json(i.product_name)::text) + 50)
                   FROM order_items i WHERE i.order_id = o.id), 0);
ALTER TABLE orders ALTER COLUMN min_json_bytes SET NOT NULL;

-- Down Migration
ALTER TABLE orders DROP COLUMN min_json_bytes;
