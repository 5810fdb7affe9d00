//! The coupon image (쿠폰 이미지): the picture of one gift coupon that the platform renders for a
//! send with `gubun=I` and uses as the MMS body.
//!
//! A white portrait card of [`COUPON_SIZE`] with, top to bottom: a header band in the brand's
//! colour with the brand name, the goods name (wrapped, up to three lines), a Code128 barcode of
//! the PIN with the PIN printed under it in groups of four, the validity end, the order number,
//! the redemption place and a short notice. Text uses the embedded NanumSquare and the layout
//! helpers of [`crate::images`].
//!
//! The PIN is a bearer value: it is drawn, but never logged and never put into an error message.

use std::io::Cursor;

use anyhow::{bail, Context};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageFormat, RgbImage};

use crate::images::{draw_block, fill_rect, fit_text, font, mix, Palette, TextBlock};

/// Width and height of every coupon image, in pixels.
pub const COUPON_SIZE: (u32, u32) = (600, 900);

/// JPEG quality: high enough that the bar edges stay crisp for scanners.
pub const JPEG_QUALITY: u8 = 92;

/// Code128 needs at least 10 modules of quiet zone on each side.
const QUIET_MODULES: u32 = 10;
/// Narrower modules get hard to read for phone cameras held at a normal distance.
const MIN_MODULE_PX: u32 = 3;
/// Wider modules add nothing and would eat the card's side margins.
const MAX_MODULE_PX: u32 = 4;
const BAR_TOP: u32 = 390;
const BAR_HEIGHT: u32 = 160;

const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [0, 0, 0];
const TEXT: [u8; 3] = [34, 34, 34];
const GREY: [u8; 3] = [120, 120, 120];
const LINE: [u8; 3] = [222, 222, 222];

/// What goes on one coupon. All fields are display text.
#[derive(Clone, Copy, Debug)]
pub struct CouponCard<'a> {
    /// The brand, also shown as the redemption place (교환처).
    pub brand_name: &'a str,
    pub goods_name: &'a str,
    /// The coupon number; printable ASCII, normally 12 digits.
    pub pin: &'a str,
    /// The last valid day as shown, e.g. `2026.12.31`.
    pub valid_until: &'a str,
    /// The order number (`tr_id` or similar); left out when empty.
    pub order_no: &'a str,
}

/// The encoding of a rendered coupon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CouponFormat {
    Png,
    /// Baseline JPEG at [`JPEG_QUALITY`], for MMS gateways that take only JPEG.
    Jpeg,
}

/// Renders one coupon as PNG or JPEG bytes of [`COUPON_SIZE`].
///
/// Fails if the PIN is empty, not printable ASCII, or too long for a readable barcode.
pub fn render_coupon(card: &CouponCard, format: CouponFormat) -> anyhow::Result<Vec<u8>> {
    let img = render_coupon_image(card)?;
    let mut out = Cursor::new(Vec::with_capacity(64 * 1024));
    match format {
        CouponFormat::Png => img.write_to(&mut out, ImageFormat::Png),
        CouponFormat::Jpeg => {
            img.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))
        }
    }
    .context("encoding the coupon image")?;
    Ok(out.into_inner())
}

/// Renders one coupon as pixels.
pub fn render_coupon_image(card: &CouponCard) -> anyhow::Result<RgbImage> {
    let pin = card.pin.trim();
    let modules = code128_modules(pin)?;
    let (w, h) = COUPON_SIZE;
    let wf = w as f32;
    // The bars plus both quiet zones must fit the card at a module width scanners can read.
    let total_modules = modules.len() as u32 + 2 * QUIET_MODULES;
    let module_px = (w / total_modules).min(MAX_MODULE_PX);
    if module_px < MIN_MODULE_PX {
        bail!("the PIN is too long for a readable coupon barcode");
    }

    let mut img = RgbImage::from_pixel(w, h, image::Rgb(WHITE));
    let font = font();
    let margin = 40.0;
    let max_w = wf - 2.0 * margin;
    let brand = card.brand_name.trim();
    let palette = Palette::for_name(brand);

    // Header band in the brand's colour, as on the catalog pictures.
    let band_h = 120u32;
    for y in 0..band_h {
        let c = mix(palette.top, palette.bottom, y as f32 / band_h as f32);
        fill_rect(&mut img, 0, i64::from(y), i64::from(w), 1, c);
    }
    let brand_block = fit_text(font, brand, max_w, 96.0, 40.0, 2);
    draw_centered(&mut img, &brand_block, 0.0, band_h as f32, palette.text);

    // Goods name, centred in the space between the band and the barcode.
    let goods = fit_text(font, card.goods_name.trim(), max_w, 200.0, 40.0, 3);
    draw_centered(
        &mut img,
        &goods,
        band_h as f32 + 20.0,
        BAR_TOP as f32 - 30.0,
        TEXT,
    );
    fill_rect(
        &mut img,
        40,
        i64::from(BAR_TOP) - 26,
        i64::from(w) - 80,
        1,
        LINE,
    );

    // Barcode, centred; everything beside it is white, so the quiet zones are at least as wide
    // as the margins left over.
    let bars_w = modules.len() as u32 * module_px;
    let left = (w - bars_w) / 2;
    debug_assert!(left >= QUIET_MODULES * module_px);
    for (i, &m) in modules.iter().enumerate() {
        if m == 1 {
            let x = left + i as u32 * module_px;
            fill_rect(
                &mut img,
                i64::from(x),
                i64::from(BAR_TOP),
                i64::from(module_px),
                i64::from(BAR_HEIGHT),
                INK,
            );
        }
    }
    let pin_top = (BAR_TOP + BAR_HEIGHT) as f32 + 10.0;
    let pin_block = fit_text(font, &group_pin(pin), max_w, 48.0, 36.0, 1);
    draw_block(&mut img, font, &pin_block, pin_top, INK);

    // Details: validity, order number, redemption place.
    let mut y = pin_top + pin_block.height() + 24.0;
    fill_rect(&mut img, 40, y as i64, i64::from(w) - 80, 1, LINE);
    y += 18.0;
    let mut details = vec![format!("유효기간: {}까지", card.valid_until.trim())];
    if !card.order_no.trim().is_empty() {
        details.push(format!("주문번호: {}", card.order_no.trim()));
    }
    details.push(format!("교환처: {brand}"));
    for line in &details {
        let block = fit_text(font, line, max_w, 34.0, 24.0, 1);
        draw_block(&mut img, font, &block, y, TEXT);
        y += block.height() + 2.0;
    }

    // Notice at the foot of the card.
    let notice = fit_text(
        font,
        "교환처 매장에서 바코드를 제시해 주세요. 유효기간이 지난 쿠폰은 사용할 수 없습니다.",
        max_w,
        60.0,
        16.0,
        2,
    );
    let notice_top = (h as f32 - 24.0 - notice.height()).max(y + 8.0);
    draw_block(&mut img, font, &notice, notice_top, GREY);
    Ok(img)
}

/// Draws `block` centred horizontally, and vertically between `top` and `bottom`.
fn draw_centered(img: &mut RgbImage, block: &TextBlock, top: f32, bottom: f32, color: [u8; 3]) {
    let y = top + ((bottom - top) - block.height()).max(0.0) / 2.0;
    draw_block(img, font(), block, y, color);
}

/// The PIN's Code128 modules (1 = bar, 0 = space), start to stop pattern, no quiet zone.
///
/// Digits use character set C (two digits a symbol, so a 12-digit PIN is 101 modules); an odd
/// trailing digit switches to set B, and anything else is set B throughout.
fn code128_modules(pin: &str) -> anyhow::Result<Vec<u8>> {
    if pin.is_empty() {
        bail!("the coupon PIN is empty");
    }
    if !pin.bytes().all(|b| b.is_ascii_graphic()) {
        bail!("the coupon PIN must be printable ASCII without spaces");
    }
    // barcoders selects the start set with 'Ć' (C) or 'Ɓ' (B) and switches the same way.
    let data = if pin.bytes().all(|b| b.is_ascii_digit()) {
        if pin.len().is_multiple_of(2) {
            format!("Ć{pin}")
        } else if pin.len() == 1 {
            format!("Ɓ{pin}")
        } else {
            let (pairs, last) = pin.split_at(pin.len() - 1);
            format!("Ć{pairs}Ɓ{last}")
        }
    } else {
        format!("Ɓ{pin}")
    };
    // barcoders' error says only "invalid data", never the data itself.
    let code = barcoders::sym::code128::Code128::new(data)
        .map_err(|e| anyhow::anyhow!("the coupon PIN cannot be encoded as Code128: {e}"))?;
    Ok(code.encode())
}

/// The PIN as printed under the bars: groups of four from the left, e.g. `9003 4363 0367`.
fn group_pin(pin: &str) -> String {
    let mut out = String::with_capacity(pin.len() + pin.len() / 4);
    for (i, c) in pin.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Rendered coupon images by URL token and format; bounded, rendered off the async workers.
pub struct CouponImageCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, bytes::Bytes>>,
}

/// Most coupon images kept; past it the cache starts over (a render is a few milliseconds).
const COUPON_CACHE_CAPACITY: usize = 1024;

impl Default for CouponImageCache {
    fn default() -> Self {
        CouponImageCache { entries: std::sync::Mutex::new(std::collections::HashMap::new()) }
    }
}

impl CouponImageCache {
    pub fn cached(&self, key: &str) -> Option<bytes::Bytes> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    pub async fn get_or_render(
        &self,
        key: String,
        render: impl FnOnce() -> anyhow::Result<Vec<u8>> + Send + 'static,
    ) -> anyhow::Result<bytes::Bytes> {
        if let Some(hit) = self.cached(&key) {
            return Ok(hit);
        }
        let bytes = bytes::Bytes::from(tokio::task::spawn_blocking(render).await??);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= COUPON_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(key, bytes.clone());
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxing::BarcodeFormat;

    const PIN: &str = "900343630367";

    fn card(pin: &str) -> CouponCard<'_> {
        CouponCard {
            brand_name: "스타벅스",
            goods_name: "카페 아메리카노 Tall + 부드러운 디저트 세트 (교환권)",
            pin,
            valid_until: "2026.12.31",
            order_no: "20260115123456789",
        }
    }

    /// Decodes the encoded image with rxing, a port of ZXing, restricted to Code128.
    fn scan(bytes: &[u8]) -> String {
        let img = image::load_from_memory(bytes).expect("decodes").to_luma8();
        let (w, h) = img.dimensions();
        rxing::helpers::detect_in_luma(img.into_raw(), w, h, Some(BarcodeFormat::CODE_128))
            .expect("a Code128 barcode is found")
            .getText()
            .to_owned()
    }

    #[test]
    fn png_is_the_documented_size_and_scans_to_the_pin() {
        let png = render_coupon(&card(PIN), CouponFormat::Png).unwrap();
        assert_eq!(image::guess_format(&png).unwrap(), ImageFormat::Png);
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), COUPON_SIZE);
        assert_eq!(scan(&png), PIN);
        if let Ok(path) = std::env::var("GIFTBIZ_COUPON_PNG") {
            std::fs::write(path, &png).unwrap();
        }
    }

    #[test]
    fn jpeg_scans_to_the_pin() {
        let jpeg = render_coupon(&card(PIN), CouponFormat::Jpeg).unwrap();
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((img.width(), img.height()), COUPON_SIZE);
        assert_eq!(scan(&jpeg), PIN);
    }

    #[test]
    fn a_different_pin_scans_differently() {
        let other = "123456789012";
        let png = render_coupon(&card(other), CouponFormat::Png).unwrap();
        let text = scan(&png);
        assert_eq!(text, other);
        assert_ne!(text, PIN);
    }

    #[test]
    fn odd_and_alphanumeric_pins_scan() {
        for pin in ["1234567890123", "AB12-34cd"] {
            let png = render_coupon(&card(pin), CouponFormat::Png).unwrap();
            assert_eq!(scan(&png), pin);
        }
    }

    #[test]
    fn a_12_digit_pin_uses_set_c_with_wide_modules_and_quiet_zones() {
        let modules = code128_modules(PIN).unwrap();
        // Start C, six digit pairs, checksum (11 each) and the 13-module stop.
        assert_eq!(modules.len(), 11 * 8 + 13);
        let module_px = (COUPON_SIZE.0 / (modules.len() as u32 + 2 * QUIET_MODULES)).min(4);
        assert!(module_px >= MIN_MODULE_PX);
        let left = (COUPON_SIZE.0 - modules.len() as u32 * module_px) / 2;
        assert!(left >= QUIET_MODULES * module_px);
    }

    #[test]
    fn bad_pins_fail_without_echoing_the_pin() {
        for pin in ["", "12 34", "쿠폰번호", &"7".repeat(80)] {
            let err = render_coupon(&card(pin), CouponFormat::Png).unwrap_err();
            let msg = format!("{err:#}");
            assert!(pin.is_empty() || !msg.contains(pin), "{msg}");
        }
    }

    #[test]
    fn pins_are_grouped_by_four() {
        assert_eq!(group_pin(PIN), "9003 4363 0367");
        assert_eq!(group_pin("1234567"), "1234 567");
    }
}
