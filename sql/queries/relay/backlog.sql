-- The pending deliveries of every organization, as aggregates only (app.webhook_backlog):
-- how many, the oldest one's creation, the soonest next attempt. One row.
select pending, oldest_created_at, next_due_at from app.webhook_backlog()
