-- Schema of the sandbox sample application (sandbox/app/server.js).
-- Applied by sandbox/up, once, as the database owner.
create table if not exists customers (
	id          bigserial primary key,
	name        text not null,
	email       text not null unique,
	region      text not null,
	created_at  timestamptz not null default now()
);

create table if not exists products (
	sku          text primary key,
	name         text not null,
	price_cents  integer not null check (price_cents > 0)
);

create table if not exists orders (
	id            bigserial primary key,
	customer_id   bigint not null references customers (id),
	status        text not null default 'new',
	total_cents   bigint not null default 0,
	created_at    timestamptz not null default now(),
	processed_at  timestamptz
);
create index if not exists orders_customer_id on orders (customer_id);

create table if not exists order_items (
	id           bigserial primary key,
	order_id     bigint not null references orders (id) on delete cascade,
	sku          text not null references products (sku),
	qty          integer not null check (qty > 0),
	price_cents  integer not null
);
create index if not exists order_items_order_id on order_items (order_id);
