-- The request that queued a message (a gubun N send, a resend), so the delivery's log line
-- names it: a client's X-Request-Id or the one the server made.
ALTER TABLE outbox ADD COLUMN request_id TEXT;

-- The send takes the request id too. The old signature goes (as in 0008), so a server of an
-- older version fails its sends against this database instead of running half the schema.
DROP FUNCTION giftbiz_issue_coupon(BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BIGINT,
    TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BIGINT, BIGINT, TEXT, TEXT, TEXT);

CREATE FUNCTION giftbiz_issue_coupon(
    p_account_id BIGINT, p_tr_id TEXT, p_pin TEXT, p_pin_sealed TEXT, p_image_token TEXT, p_goods_code TEXT,
    p_goods_name TEXT, p_brand_code TEXT, p_brand_name TEXT, p_sale_price BIGINT, p_price BIGINT,
    p_gubun TEXT, p_phone_no TEXT, p_callback_no TEXT, p_mms_title TEXT, p_mms_msg TEXT,
    p_issued_at_ms BIGINT, p_valid_until_ms BIGINT, p_reserved_at_ms BIGINT, p_order_date TEXT,
    p_issued_status TEXT, p_delivery_status TEXT, p_request_id TEXT)
RETURNS TABLE (outcome TEXT, coupon_id BIGINT, coupon_order_no TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_id BIGINT;
    v_order TEXT;
    v_balance BIGINT;
BEGIN
    -- Waits for an in-flight claim of the same tr_id (a racing send or cancel) to finish.
    INSERT INTO tr_ids (account_id, tr_id, created_at_ms) VALUES (p_account_id, p_tr_id, p_issued_at_ms)
        ON CONFLICT (account_id, tr_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'duplicate'::TEXT, NULL::BIGINT, NULL::TEXT;
        RETURN;
    END IF;
    v_id := nextval('coupons_id_seq');
    -- At least six digits, more once the id needs them: never wrapped, so never repeated.
    v_order := p_order_date || lpad(v_id::TEXT, GREATEST(6, length(v_id::TEXT)), '0');
    INSERT INTO coupons (id, order_no, account_id, tr_id, pin, pin_sealed, image_token, goods_code, goods_name,
            brand_code, brand_name, sale_price, price, gubun, phone_no, callback_no, mms_title, mms_msg,
            issued_at_ms, valid_until_ms, reserved_at_ms, status, status_changed_at_ms, delivery_status)
        VALUES (v_id, v_order, p_account_id, p_tr_id, p_pin, p_pin_sealed, p_image_token, p_goods_code, p_goods_name,
            p_brand_code, p_brand_name, p_sale_price, p_price, p_gubun, p_phone_no, p_callback_no,
            p_mms_title, p_mms_msg, p_issued_at_ms, p_valid_until_ms, p_reserved_at_ms, p_issued_status,
            p_issued_at_ms, p_delivery_status);
    UPDATE tr_ids SET coupon_id = v_id WHERE account_id = p_account_id AND tr_id = p_tr_id;
    IF p_gubun = 'N' THEN
        INSERT INTO outbox (coupon_id, kind, due_at_ms, state, next_attempt_at_ms, created_at_ms, request_id)
            VALUES (v_id, 'mms', COALESCE(p_reserved_at_ms, p_issued_at_ms), 'pending',
                    COALESCE(p_reserved_at_ms, p_issued_at_ms), p_issued_at_ms, p_request_id);
    END IF;
    UPDATE account_balances SET balance = balance - p_price
        WHERE account_id = p_account_id AND balance >= p_price
        RETURNING balance INTO v_balance;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'giftbiz: insufficient bizmoney' USING ERRCODE = 'P0001';
    END IF;
    INSERT INTO ledger (account_id, amount, balance_after, reason, tr_id, memo, created_at_ms)
        VALUES (p_account_id, -p_price, v_balance, 'send', p_tr_id, '', p_issued_at_ms);
    RETURN QUERY SELECT 'issued'::TEXT, v_id, v_order;
END
$$;
