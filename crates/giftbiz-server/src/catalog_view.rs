//! The catalog as the wire shows it: one function per shape (the 0101 list item, the 0111
//! detail, the 0102/0112 brand), each derived from the one goods or brand model, and the
//! absolute image URLs they carry. The API, the catalog cache and the catalog export share them.

use giftbiz_core::{Brand, BrandCode, Goods, GoodsCode, Grade};
use giftbiz_wire::catalog::{Brand as WireBrand, GoodsDetail, GoodsListItem};

use crate::images::ImageKind;

/// Makes absolute image URLs: a stored absolute URL as-is, else the platform's rendered image.
pub struct ImageUrls {
    /// `None` writes platform-rendered images as empty strings (catalog export, so a dump
    /// does not pin one server's address).
    base: Option<String>,
    /// A hash of `base`, made once: 0101 pages' ETags name the server by it.
    fingerprint: u32,
}

impl ImageUrls {
    pub fn new(public_base: String) -> ImageUrls {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        public_base.hash(&mut hasher);
        ImageUrls { base: Some(public_base), fingerprint: hasher.finish() as u32 }
    }

    /// Which server's URLs these are, as a hash of their base.
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    pub fn for_export() -> ImageUrls {
        ImageUrls { base: None, fingerprint: 0 }
    }

    pub fn goods(&self, stored: &Option<String>, goods_code: &GoodsCode, kind: ImageKind) -> String {
        self.url(stored, "goods", goods_code.as_str(), kind)
    }

    pub fn brand(&self, stored: &Option<String>, brand_code: &BrandCode, kind: ImageKind) -> String {
        self.url(stored, "brands", brand_code.as_str(), kind)
    }

    /// The coupon image a gubun I send returns: the URL carries a random token, never the PIN.
    pub fn coupon_image(&self, image_token: &str) -> String {
        format!("{}/coupon-images/{image_token}.png", self.base.as_deref().unwrap_or(""))
    }

    fn url(&self, stored: &Option<String>, what: &str, code: &str, kind: ImageKind) -> String {
        match (stored, &self.base) {
            (Some(url), _) => url.clone(),
            (None, Some(base)) => format!("{base}/images/{what}/{code}/{}.png", kind.slug()),
            (None, None) => String::new(),
        }
    }
}

/// A goods' five image URLs, as both goods shapes carry them.
struct GoodsImageUrls {
    small: String,
    big: String,
    desc_web: String,
    brand_icon: String,
    mms: String,
}

impl GoodsImageUrls {
    fn of(g: &Goods, urls: &ImageUrls) -> GoodsImageUrls {
        let code = &g.goods_code;
        GoodsImageUrls {
            small: urls.goods(&g.images.small, code, ImageKind::GoodsSmall),
            big: urls.goods(&g.images.big, code, ImageKind::GoodsBig),
            desc_web: urls.goods(&g.images.desc_web, code, ImageKind::GoodsDesc),
            brand_icon: urls.brand(&g.images.brand_icon, &g.brand_code, ImageKind::BrandIcon),
            mms: urls.goods(&g.images.mms, code, ImageKind::GoodsMms),
        }
    }
}

/// One entry of the 0101 list, priced for `grade`.
pub fn goods_list_item(g: &Goods, grade: Grade, urls: &ImageUrls) -> GoodsListItem {
    let price = g.price_for(grade);
    let images = GoodsImageUrls::of(g, urls);
    GoodsListItem {
        goods_code: g.goods_code.as_str().to_owned(),
        goods_no: g.goods_no,
        goods_name: g.goods_name.clone(),
        brand_code: g.brand_code.as_str().to_owned(),
        brand_name: g.brand_name.clone(),
        content: g.content.clone(),
        content_add_desc: g.content_add_desc.clone(),
        discount_rate: price.rate,
        goods_type_nm: g.goods_type_nm.clone(),
        goods_img_s: images.small,
        goods_img_b: images.big,
        goods_desc_img_web: images.desc_web,
        brand_icon_img: images.brand_icon,
        mms_goods_img: images.mms,
        discount_price: price.price.get(),
        real_price: g.real_price.get(),
        sale_price: g.sale_price.get(),
        srch_keyword: g.srch_keyword.clone(),
        valid_prd_type_cd: g.validity.type_cd().to_owned(),
        limit_day: g.limit_day(),
        valid_prd_day: g.valid_prd_day().to_owned(),
        end_date: g.end_date.clone(),
        goods_com_id: g.goods_com_id.clone(),
        goods_com_name: g.goods_com_name.clone(),
        affiliate_id: g.affiliate_id.clone(),
        affiliate: g.affiliate.clone(),
        exh_gender_cd: g.exh_gender_cd.clone(),
        exh_age_cd: g.exh_age_cd.clone(),
        mms_reserve_flag: g.mms_reserve_flag.clone(),
        goods_state_cd: g.state.code().to_owned(),
        mms_barcd_create_yn: g.mms_barcd_create_yn.clone(),
        rm_cnt_flag: g.rm_cnt_flag.clone(),
        sale_date_flag_cd: g.sale_date_flag_cd.clone(),
        goods_type_dtl_nm: g.goods_type_dtl_nm.clone(),
        category1_seq: g.category1_seq,
        sale_date_flag: g.sale_date_flag.clone(),
        rm_id_buy_cnt_flag_cd: g.rm_id_buy_cnt_flag_cd.clone(),
        md_code: g.md_code.clone(),
        popular: g.popular,
    }
}

/// The 0111 detail: every grade's price, `discountPrice` for `grade`.
pub fn goods_detail(g: &Goods, grade: Grade, urls: &ImageUrls) -> GoodsDetail {
    let own = g.price_for(grade);
    let images = GoodsImageUrls::of(g, urls);
    GoodsDetail {
        goods_no: g.goods_no,
        goods_code: g.goods_code.as_str().to_owned(),
        goods_name: g.goods_name.clone(),
        brand_code: g.brand_code.as_str().to_owned(),
        brand_name: g.brand_name.clone(),
        content: g.content.clone(),
        content_add_desc: g.content_add_desc.clone(),
        goods_type_cd: g.goods_type_cd.clone(),
        goods_type_nm: g.goods_type_nm.clone(),
        goods_img_s: images.small,
        goods_img_b: images.big,
        goods_desc_img_web: images.desc_web,
        brand_icon_img: images.brand_icon,
        mms_goods_img: images.mms,
        real_price: g.real_price.get(),
        sale_price: g.sale_price.get(),
        category_name1: g.category_name1.clone(),
        rm_id_buy_cnt_flag_cd: g.rm_id_buy_cnt_flag_cd.clone(),
        discount_rate: own.rate,
        discount_price: own.price.get(),
        gold_price: g.prices.gold.price.get(),
        vip_price: g.prices.vip.price.get(),
        platinum_price: g.prices.platinum.price.get(),
        gold_discount_rate: g.prices.gold.rate,
        vip_discount_rate: g.prices.vip.rate,
        platinum_discount_rate: g.prices.platinum.rate,
        goods_state_cd: g.state.code().to_owned(),
        rm_cnt_flag: g.rm_cnt_flag.clone(),
        goods_type_dtl_nm: g.goods_type_dtl_nm.clone(),
        sale_date_flag_cd: g.sale_date_flag_cd.clone(),
        sale_date_flag: g.sale_date_flag.clone(),
        mms_reserve_flag: g.mms_reserve_flag.clone(),
        category_seq1: g.category1_seq,
        limit_day: g.limit_day(),
        affiliate: g.affiliate.clone(),
        md_code: g.md_code.clone(),
    }
}

/// A goods as `giftbiz catalog export` writes it: the 0101 item with the keys only the 0111
/// detail has beside it (every grade's price, the type code, the category name), so the
/// export reads back through the import without a loss.
pub fn goods_export_entry(g: &Goods, urls: &ImageUrls) -> serde_json::Result<serde_json::Value> {
    let mut entry = serde_json::to_value(goods_list_item(g, Grade::Basic, urls))?;
    if let (Some(item), serde_json::Value::Object(detail)) = (entry.as_object_mut(), serde_json::to_value(goods_detail(g, Grade::Basic, urls))?) {
        for (key, value) in detail {
            item.entry(key).or_insert(value);
        }
    }
    Ok(entry)
}

/// A brand as 0102 lists it and 0112 details it.
pub fn brand_view(b: &Brand, urls: &ImageUrls) -> WireBrand {
    let code = &b.brand_code;
    WireBrand {
        brand_seq: b.brand_seq,
        brand_code: b.brand_code.as_str().to_owned(),
        brand_name: b.brand_name.clone(),
        brand_banner_img: urls.brand(&b.images.banner, code, ImageKind::BrandBanner),
        brand_icon_img: urls.brand(&b.images.icon, code, ImageKind::BrandIcon),
        mms_thum_img: urls.brand(&b.images.mms_thum, code, ImageKind::BrandThumb),
        content: b.content.clone(),
        category1_name: b.category1_name.clone(),
        category1_seq: b.category1_seq,
        category2_name: b.category2_name.clone(),
        category2_seq: b.category2_seq,
        sort: b.sort,
    }
}
