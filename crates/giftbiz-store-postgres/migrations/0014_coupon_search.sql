-- The console finds coupons by tr_id across accounts and by the last four digits of the
-- recipient's phone, newest first, at any size. The expression is written the same on both
-- engines, and the search's query uses it exactly (SQLite matches expression indexes by text).
CREATE INDEX coupons_by_tr_id ON coupons (tr_id, id);
CREATE INDEX coupons_by_phone_last4 ON coupons (substr(phone_no, length(phone_no) - 3), id);
