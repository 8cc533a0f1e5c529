-- Seed data: deterministic (setseed), so every fresh sandbox has the same
-- rows: 60 products, 2000 customers, 5000 orders, ~10000 order items.
-- Applied by sandbox/up once, right after schema.sql, when customers is empty.
begin;
select setseed(0.42);

insert into products (sku, name, price_cents)
select format('SKU-%s', lpad(i::text, 4, '0')),
       (array['Widget', 'Gadget', 'Sprocket', 'Gizmo', 'Doohickey', 'Flange'])[1 + i % 6] || ' ' ||
       (array['Mini', 'Pro', 'Max', 'Lite', 'Plus'])[1 + i % 5] || ' ' || i,
       199 + (i * 7919) % 9800
  from generate_series(1, 60) as i;

insert into customers (name, email, region, created_at)
select (array['Ada', 'Grace', 'Linus', 'Ken', 'Dennis', 'Barbara', 'Edsger', 'Frances', 'Alan', 'Radia'])[1 + i % 10]
       || ' ' ||
       (array['Lovelace', 'Hopper', 'Torvalds', 'Thompson', 'Ritchie', 'Liskov', 'Dijkstra', 'Allen', 'Turing', 'Perlman'])[1 + (i / 10) % 10],
       format('customer%s@example.com', i),
       (array['us-west2', 'us-east4', 'europe-west4', 'asia-southeast1'])[1 + i % 4],
       now() - make_interval(days => i % 700)
  from generate_series(1, 2000) as i;

insert into orders (customer_id, status, created_at, processed_at)
select 1 + floor(random() * 2000)::bigint,
       'processed',
       now() - make_interval(mins => 5000 - i),
       now() - make_interval(mins => 5000 - i) + interval '2 seconds'
  from generate_series(1, 5000) as i;

insert into order_items (order_id, sku, qty, price_cents)
select o.id, p.sku, 1 + floor(random() * 3)::int, p.price_cents
  from orders o
  cross join lateral generate_series(1, 1 + (o.id % 3)::int) as n
  join products p on p.sku = format('SKU-%s', lpad((1 + (o.id * 31 + n * 17) % 60)::text, 4, '0'));

update orders o
   set total_cents = t.total
  from (select order_id, sum(qty * price_cents) as total from order_items group by order_id) t
 where t.order_id = o.id;
commit;
analyze customers, products, orders, order_items;
