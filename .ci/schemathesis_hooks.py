"""Schemathesis hooks for giftbiz: most generated /bizApi calls would fail authentication
and test only the error envelope. Before a call, three in four get the demo account's real
credentials (and its user id), and some a real goods code and sane send parameters, so the
success answers are checked against the document too. The rest stay as generated."""

import os
import random

import schemathesis

AUTH_CODE = os.environ["GIFTBIZ_AUTH_CODE"]
AUTH_TOKEN = os.environ["GIFTBIZ_AUTH_TOKEN"]
GOODS = os.environ.get("GIFTBIZ_GOODS_CODES", "").split()
BRANDS = os.environ.get("GIFTBIZ_BRAND_CODES", "").split()
rng = random.Random(20261207)
# tr_ids of the sends that were answered 0000, for the calls that take one.
SENT = []


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if path.startswith("/bizApi/") and isinstance(case.body, dict) and rng.random() < 0.75:
        body = dict(case.body)
        # The document's operationId is biz_<api code>.
        body["api_code"] = case.operation.definition.raw["operationId"].removeprefix("biz_")
        body["custom_auth_code"] = AUTH_CODE
        body["custom_auth_token"] = AUTH_TOKEN
        body["dev_yn"] = "N"
        if "user_id" in body or rng.random() < 0.5:
            body["user_id"] = "demo"
        if path == "/bizApi/send" and GOODS and rng.random() < 0.6:
            body.update(
                goods_code=rng.choice(GOODS),
                gubun=rng.choice("YNI"),
                phone_no="01012345678",
                callback_no="15880108",
                mms_title="선물",
                mms_msg="감사합니다",
                tr_id="st%012d" % rng.randrange(10**12),
            )
            body.pop("rev_info_yn", None)
        elif "tr_id" in body and SENT and rng.random() < 0.6:
            # 0201, 0202, 0203, 0205 on a coupon that exists.
            body["tr_id"] = rng.choice(SENT)
        case.body = body
    if case.path_parameters and rng.random() < 0.5:
        if "goodsCode" in case.path_parameters and GOODS:
            case.path_parameters["goodsCode"] = rng.choice(GOODS)
        if "brandCode" in case.path_parameters and BRANDS:
            case.path_parameters["brandCode"] = rng.choice(BRANDS)


@schemathesis.hook
def after_call(context, case, response):
    if case.operation.path == "/bizApi/send" and isinstance(case.body, dict):
        try:
            if response.json()["result"]["code"] == "0000":
                SENT.append(case.body["tr_id"])
        except (ValueError, KeyError, TypeError):
            pass
