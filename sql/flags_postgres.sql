-- sql/flags_postgres.sql: the PostgreSQL flag store of signalbox
-- (flags.store: postgres).  One row per flag and environment; a trigger
-- NOTIFYs channel signalbox_flags with the environment on every change,
-- which the console LISTENs to.  Apply with `signalbox flags migrate`
-- (the same statements) or `psql "$DATABASE_URL" -f sql/flags_postgres.sql`.
-- Compare-and-set: a write is
--   update signalbox_flags set ... where environment = $1 and name = $2
--     and updated_at = <the updated_at read>
-- and 0 rows means the flag changed underneath.

create table if not exists signalbox_flags (
	environment text not null,
	name text not null check (name ~ '^[a-z0-9._-]{1,100}$'),
	enabled boolean not null default false,
	rollout integer not null default 100 check (rollout between 0 and 100),
	description text,
	updated_at timestamptz not null default clock_timestamp(),
	updated_by text,
	primary key (environment, name)
);

create or replace function signalbox_flags_notify() returns trigger
language plpgsql as $$
begin
	perform pg_notify('signalbox_flags', coalesce(new.environment, old.environment));
	return null;
end
$$;

drop trigger if exists signalbox_flags_notify on signalbox_flags;

create trigger signalbox_flags_notify after insert or update or delete
	on signalbox_flags for each row execute function signalbox_flags_notify();
