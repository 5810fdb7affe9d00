-- The console's dashboard counts sends per day over the last 30 days: a range of this index,
-- not the whole table.
CREATE INDEX coupons_by_issued_at ON coupons (issued_at_ms);
