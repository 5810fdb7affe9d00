//! Images the platform renders itself: goods and brand pictures for catalog entries whose image
//! URL is `None` (the demo catalog, and imported goods without pictures).
//!
//! Each picture is a flat colour card (the colour comes from a hash of the title, so every brand
//! gets its own) with the title — the brand name — in Hangul and, for goods, the goods name as a
//! second block below it. Text is drawn with the embedded NanumSquare Regular (SIL OFL 1.1, see
//! `assets/fonts/LICENSE-OFL.txt`), which covers all 11,172 precomposed Hangul syllables and
//! ASCII, so no text shaping is needed.
//!
//! Rendering is CPU work of a few milliseconds; [`ImageCache`] keeps the PNG bytes so a picture
//! is rendered once per subject and kind. Callers on an async runtime should render a cache miss
//! in `spawn_blocking`.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use bytes::Bytes;
use image::{ImageFormat, Rgb, RgbImage};

/// NanumSquare Regular 1.000 (NAVER Corporation, SIL Open Font License 1.1).
static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/NanumSquareR.ttf");

/// The embedded Hangul font, parsed once.
pub fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("the embedded font parses"))
}

/// Which picture, and so which size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// `goodsImgS`, 250×250.
    GoodsSmall,
    /// `goodsImgB`, 500×500.
    GoodsBig,
    /// `goodsDescImgWeb`, 500×800.
    GoodsDesc,
    /// `mmsGoodsImg`, 250×250.
    GoodsMms,
    /// `brandIConImg` / `brandIconImg`, 120×120.
    BrandIcon,
    /// `brandBannerImg`, 600×200.
    BrandBanner,
    /// `mmsThumImg`, 100×100.
    BrandThumb,
}

impl ImageKind {
    pub const ALL: [ImageKind; 7] = [
        ImageKind::GoodsSmall,
        ImageKind::GoodsBig,
        ImageKind::GoodsDesc,
        ImageKind::GoodsMms,
        ImageKind::BrandIcon,
        ImageKind::BrandBanner,
        ImageKind::BrandThumb,
    ];

    /// A goods image kind from its URL slug: `s`, `b`, `desc`, `mms`.
    pub fn parse_goods(s: &str) -> Option<ImageKind> {
        match s {
            "s" => Some(ImageKind::GoodsSmall),
            "b" => Some(ImageKind::GoodsBig),
            "desc" => Some(ImageKind::GoodsDesc),
            "mms" => Some(ImageKind::GoodsMms),
            _ => None,
        }
    }

    /// A brand image kind from its URL slug: `icon`, `banner`, `thumb`.
    pub fn parse_brand(s: &str) -> Option<ImageKind> {
        match s {
            "icon" => Some(ImageKind::BrandIcon),
            "banner" => Some(ImageKind::BrandBanner),
            "thumb" => Some(ImageKind::BrandThumb),
            _ => None,
        }
    }

    /// The URL slug, the inverse of [`parse_goods`](Self::parse_goods) /
    /// [`parse_brand`](Self::parse_brand).
    pub fn slug(self) -> &'static str {
        match self {
            ImageKind::GoodsSmall => "s",
            ImageKind::GoodsBig => "b",
            ImageKind::GoodsDesc => "desc",
            ImageKind::GoodsMms => "mms",
            ImageKind::BrandIcon => "icon",
            ImageKind::BrandBanner => "banner",
            ImageKind::BrandThumb => "thumb",
        }
    }

    /// Width and height in pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            ImageKind::GoodsSmall | ImageKind::GoodsMms => (250, 250),
            ImageKind::GoodsBig => (500, 500),
            ImageKind::GoodsDesc => (500, 800),
            ImageKind::BrandIcon => (120, 120),
            ImageKind::BrandBanner => (600, 200),
            ImageKind::BrandThumb => (100, 100),
        }
    }

    pub fn is_goods(self) -> bool {
        matches!(
            self,
            ImageKind::GoodsSmall
                | ImageKind::GoodsBig
                | ImageKind::GoodsDesc
                | ImageKind::GoodsMms
        )
    }
}

/// Most entries the cache holds; past it an arbitrary entry is evicted per insert.
pub const CACHE_CAPACITY: usize = 4096;

struct Entry {
    title: String,
    subtitle: Option<String>,
    png: Bytes,
}

/// Rendered PNGs by subject and kind. Thread-safe and bounded.
pub struct ImageCache {
    entries: Mutex<HashMap<(String, ImageKind), Entry>>,
    renders: AtomicU64,
    capacity: usize,
}

impl Default for ImageCache {
    fn default() -> Self {
        ImageCache::new()
    }
}

impl ImageCache {
    pub fn new() -> ImageCache {
        ImageCache::with_capacity(CACHE_CAPACITY)
    }

    pub fn with_capacity(capacity: usize) -> ImageCache {
        ImageCache {
            entries: Mutex::new(HashMap::new()),
            renders: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    /// The PNG for `key` (which identifies the subject, e.g. `goods:G00000280811`) and `kind`.
    /// Renders on the first call, then serves the cached bytes. Should the title or subtitle of
    /// a key change (a catalog re-import), the picture is rendered again.
    pub fn png(&self, key: &str, kind: ImageKind, title: &str, subtitle: Option<&str>) -> Bytes {
        let map_key = (key.to_owned(), kind);
        {
            let entries = self.lock();
            if let Some(e) = entries.get(&map_key) {
                if e.title == title && e.subtitle.as_deref() == subtitle {
                    return e.png.clone();
                }
            }
        }
        // Render outside the lock so one slow render does not hold up every other request.
        let png = Bytes::from(render_png(kind, title, subtitle));
        self.renders.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&map_key) {
            if let Some(victim) = entries.keys().next().cloned() {
                entries.remove(&victim);
            }
        }
        entries.insert(
            map_key,
            Entry {
                title: title.to_owned(),
                subtitle: subtitle.map(str::to_owned),
                png: png.clone(),
            },
        );
        png
    }

    /// How many renders this cache has done.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, ImageKind), Entry>> {
        // A panic while holding the lock cannot leave the map inconsistent; keep serving.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Renders one picture as PNG bytes.
pub fn render_png(kind: ImageKind, title: &str, subtitle: Option<&str>) -> Vec<u8> {
    let img = render(kind, title, subtitle);
    let mut out = Cursor::new(Vec::with_capacity(16 * 1024));
    img.write_to(&mut out, ImageFormat::Png)
        .expect("PNG encoding into memory cannot fail");
    out.into_inner()
}

/// Renders one picture.
pub fn render(kind: ImageKind, title: &str, subtitle: Option<&str>) -> RgbImage {
    let (w, h) = kind.size();
    let title = title.trim();
    let subtitle = subtitle.map(str::trim).filter(|s| !s.is_empty());
    let palette = Palette::for_name(title);

    let mut img = RgbImage::new(w, h);
    paint_background(&mut img, &palette);

    let font = font();
    let (wf, hf) = (w as f32, h as f32);
    let margin = (wf.min(hf) * 0.08).max(6.0);
    let max_w = wf - 2.0 * margin;

    // Title size caps and the share of the height each block may take.
    let (title_px, title_lines, title_share, sub_px, sub_lines, sub_share): (
        f32,
        usize,
        f32,
        f32,
        usize,
        f32,
    ) = match kind {
        ImageKind::BrandBanner => (hf * 0.32, 1, 0.55, hf * 0.15, 2, 0.30),
        ImageKind::BrandIcon | ImageKind::BrandThumb => (hf * 0.26, 2, 0.80, hf * 0.11, 2, 0.25),
        ImageKind::GoodsDesc => (wf * 0.11, 2, 0.22, wf * 0.075, 4, 0.30),
        ImageKind::GoodsSmall | ImageKind::GoodsBig | ImageKind::GoodsMms => {
            (wf * 0.14, 2, 0.34, wf * 0.085, 3, 0.36)
        }
    };
    let (title_share, title_lines) = if subtitle.is_none() {
        (title_share.max(0.6), title_lines.max(2))
    } else {
        (title_share, title_lines)
    };

    let title_block = fit_text(font, title, max_w, hf * title_share, title_px, title_lines);
    let sub_block = subtitle.map(|s| fit_text(font, s, max_w, hf * sub_share, sub_px, sub_lines));

    // A thin rule between the two blocks.
    let gap = sub_block
        .as_ref()
        .map_or(0.0, |b| (b.line_height * 0.9).max(8.0));
    let total = title_block.height() + gap + sub_block.as_ref().map_or(0.0, |b| b.height());
    let mut y = if kind == ImageKind::GoodsDesc {
        // The description image carries its text in the upper part, like a product page header.
        hf * 0.12
    } else {
        ((hf - total) / 2.0).max(0.0)
    };

    draw_block(&mut img, font, &title_block, y, palette.text);
    y += title_block.height();
    if let Some(sub) = &sub_block {
        let rule_y = (y + gap / 2.0).round() as i64;
        let rule_w = (wf * 0.18).min(60.0);
        fill_rect(
            &mut img,
            ((wf - rule_w) / 2.0) as i64,
            rule_y - 1,
            rule_w as i64,
            2,
            palette.rule,
        );
        y += gap;
        draw_block(&mut img, font, sub, y, palette.text);
    }

    if kind == ImageKind::GoodsDesc {
        paint_desc_panel(
            &mut img,
            font,
            &palette,
            y + sub_block.as_ref().map_or(0.0, |b| b.height()),
        );
    }
    img
}

// ----------------------------------------------------------------------------------------------
// Colours

pub(crate) struct Palette {
    pub(crate) top: [u8; 3],
    pub(crate) bottom: [u8; 3],
    pub(crate) text: [u8; 3],
    rule: [u8; 3],
    panel: [u8; 3],
}

impl Palette {
    pub(crate) fn for_name(name: &str) -> Palette {
        let h = fnv1a(name.as_bytes());
        let hue = (h % 360) as f32;
        let sat = 0.45 + ((h >> 16) % 20) as f32 / 100.0;
        let light = 0.36 + ((h >> 24) % 10) as f32 / 100.0;
        let top = hsl(hue, sat, light + 0.04);
        let bottom = hsl(hue, sat, light - 0.08);
        Palette {
            top,
            bottom,
            text: [255, 255, 255],
            rule: hsl(hue, sat * 0.6, 0.82),
            panel: hsl(hue, sat * 0.35, 0.95),
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Fold the high bits down so small differences in the name move the low bits too.
    h ^ (h >> 29)
}

fn hsl(h: f32, s: f32, l: f32) -> [u8; 3] {
    let l = l.clamp(0.0, 1.0);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s.clamp(0.0, 1.0);
    let hp = (h.rem_euclid(360.0)) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to(r), to(g), to(b)]
}

pub(crate) fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let f = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])]
}

fn paint_background(img: &mut RgbImage, p: &Palette) {
    let (w, h) = img.dimensions();
    let span = (w + h).max(1) as f32;
    for (x, y, px) in img.enumerate_pixels_mut() {
        // A soft diagonal gradient.
        let t = (x as f32 * 0.35 + y as f32) / span * 1.5;
        *px = Rgb(mix(p.top, p.bottom, t));
    }
}

pub(crate) fn fill_rect(img: &mut RgbImage, x: i64, y: i64, w: i64, h: i64, color: [u8; 3]) {
    let (iw, ih) = img.dimensions();
    for yy in y.max(0)..(y + h).min(i64::from(ih)) {
        for xx in x.max(0)..(x + w).min(i64::from(iw)) {
            img.put_pixel(xx as u32, yy as u32, Rgb(color));
        }
    }
}

/// The lower part of the description image: a light panel with the usual notice lines.
fn paint_desc_panel(img: &mut RgbImage, font: &FontRef<'static>, p: &Palette, text_bottom: f32) {
    let (w, h) = img.dimensions();
    let (wf, hf) = (w as f32, h as f32);
    let margin = wf * 0.08;
    let pad = margin * 0.8;
    let dark = mix(p.bottom, [0, 0, 0], 0.35);
    let lines = [
        "유의사항",
        "· 상품 이미지는 연출된 것으로 실제와 다를 수 있습니다.",
        "· 유효기간 내 교환처 매장에서 사용하세요.",
        "· 쿠폰은 현금으로 교환되지 않습니다.",
        "· 매장 사정에 따라 다른 상품으로 교환될 수 있습니다.",
    ];
    let inner_w = wf - 2.0 * margin - 2.0 * pad;
    let blocks: Vec<TextBlock> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let px = if i == 0 { 22.0 } else { 16.0 };
            fit_text(font, line, inner_w, px * 2.7, px, 2)
        })
        .collect();
    let spacing = 6.0;
    let content_h: f32 = blocks.iter().map(|b| b.height() + spacing).sum::<f32>() - spacing;
    let panel_h = content_h + 2.0 * pad;
    // Centre the panel in the space below the text, but never off the card.
    let free_top = text_bottom + hf * 0.05;
    let top = (free_top + ((hf - margin - free_top) - panel_h).max(0.0) / 2.0)
        .min(hf - margin - panel_h)
        .max(0.0);
    fill_rect(
        img,
        margin as i64,
        top as i64,
        (wf - 2.0 * margin) as i64,
        panel_h as i64,
        p.panel,
    );
    let mut y = top + pad;
    for block in &blocks {
        draw_block_left(img, font, block, margin + pad, y, dark);
        y += block.height() + spacing;
    }
}

// ----------------------------------------------------------------------------------------------
// Text layout

pub(crate) struct TextBlock {
    pub(crate) lines: Vec<String>,
    pub(crate) px: f32,
    pub(crate) line_height: f32,
}

impl TextBlock {
    pub(crate) fn height(&self) -> f32 {
        self.line_height * self.lines.len() as f32
    }
}

pub(crate) fn text_width(font: &FontRef<'static>, px: f32, text: &str) -> f32 {
    let sf = font.as_scaled(PxScale::from(px));
    let mut width = 0.0;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            width += sf.kern(p, id);
        }
        width += sf.h_advance(id);
        prev = Some(id);
    }
    width
}

/// Greedy word wrap at `px`. A word wider than the line is broken between characters (Korean
/// breaks between syllables) when `break_words`, else the wrap fails with `None`.
fn wrap(
    font: &FontRef<'static>,
    px: f32,
    text: &str,
    max_w: f32,
    break_words: bool,
) -> Option<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if text_width(font, px, &candidate) <= max_w {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if text_width(font, px, word) <= max_w {
            current = word.to_owned();
            continue;
        }
        if !break_words {
            return None;
        }
        for c in word.chars() {
            let mut next = current.clone();
            next.push(c);
            if !current.is_empty() && text_width(font, px, &next) > max_w {
                lines.push(std::mem::replace(&mut current, c.to_string()));
            } else {
                current = next;
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    Some(lines)
}

/// The largest size (from `start_px` down) at which `text` fits `max_lines` lines within
/// `max_w` × `max_h`. Words stay whole while the size is at least 60 % of `start_px`; below
/// that they may break. At the smallest size the overflow is cut with an ellipsis.
pub(crate) fn fit_text(
    font: &FontRef<'static>,
    text: &str,
    max_w: f32,
    max_h: f32,
    start_px: f32,
    max_lines: usize,
) -> TextBlock {
    let min_px = (start_px * 0.4).clamp(8.0, 12.0).min(start_px);
    let whole_words_px = start_px * 0.6;
    let max_lines = max_lines.max(1);
    let fits = |lines: &[String], line_height: f32| {
        lines.len() <= max_lines && line_height * lines.len() as f32 <= max_h.max(line_height)
    };
    // First pass: shrink with whole words only.
    let mut px = start_px.max(min_px);
    while px >= whole_words_px {
        if let Some(lines) = wrap(font, px, text, max_w, false) {
            if fits(&lines, px * 1.3) {
                return TextBlock {
                    lines,
                    px,
                    line_height: px * 1.3,
                };
            }
        }
        px *= 0.92;
    }
    // Second pass: words may break.
    let mut px = start_px.max(min_px);
    loop {
        let line_height = px * 1.3;
        let lines = wrap(font, px, text, max_w, true).unwrap_or_default();
        if fits(&lines, line_height) || px <= min_px {
            let lines = if lines.len() > max_lines {
                truncate(font, px, lines, max_lines, max_w)
            } else {
                lines
            };
            return TextBlock {
                lines,
                px,
                line_height,
            };
        }
        px = (px * 0.92).max(min_px);
    }
}

fn truncate(
    font: &FontRef<'static>,
    px: f32,
    mut lines: Vec<String>,
    n: usize,
    max_w: f32,
) -> Vec<String> {
    lines.truncate(n);
    if let Some(last) = lines.last_mut() {
        loop {
            let candidate = format!("{}…", last.trim_end());
            if text_width(font, px, &candidate) <= max_w || last.is_empty() {
                *last = candidate;
                break;
            }
            last.pop();
        }
    }
    lines
}

// ----------------------------------------------------------------------------------------------
// Drawing

pub(crate) fn draw_block(
    img: &mut RgbImage,
    font: &FontRef<'static>,
    block: &TextBlock,
    top: f32,
    color: [u8; 3],
) {
    let w = img.width() as f32;
    for (i, line) in block.lines.iter().enumerate() {
        let lw = text_width(font, block.px, line);
        let x = ((w - lw) / 2.0).max(0.0);
        draw_line(
            img,
            font,
            block,
            line,
            x,
            top + block.line_height * i as f32,
            color,
        );
    }
}

pub(crate) fn draw_block_left(
    img: &mut RgbImage,
    font: &FontRef<'static>,
    block: &TextBlock,
    left: f32,
    top: f32,
    color: [u8; 3],
) {
    for (i, line) in block.lines.iter().enumerate() {
        draw_line(
            img,
            font,
            block,
            line,
            left,
            top + block.line_height * i as f32,
            color,
        );
    }
}

/// Draws one line whose line box starts at (`x`, `top`), blending `color` by glyph coverage.
fn draw_line(
    img: &mut RgbImage,
    font: &FontRef<'static>,
    block: &TextBlock,
    line: &str,
    x: f32,
    top: f32,
    color: [u8; 3],
) {
    let sf = font.as_scaled(PxScale::from(block.px));
    // Centre the font's ascent+descent box in the line box.
    let glyph_h = sf.ascent() - sf.descent();
    let baseline = top + (block.line_height - glyph_h) / 2.0 + sf.ascent();
    let (iw, ih) = img.dimensions();
    let mut caret = x;
    let mut prev: Option<GlyphId> = None;
    for c in line.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            caret += sf.kern(p, id);
        }
        let glyph = id.with_scale_and_position(block.px, point(caret, baseline));
        caret += sf.h_advance(id);
        prev = Some(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            if px < 0 || py < 0 || px >= i64::from(iw) || py >= i64::from(ih) {
                return;
            }
            let pixel = img.get_pixel_mut(px as u32, py as u32);
            pixel.0 = mix(pixel.0, color, coverage);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png: &[u8]) -> image::RgbaImage {
        image::load_from_memory(png).expect("a PNG").to_rgba8()
    }

    #[test]
    fn the_font_has_hangul_glyphs() {
        let f = font();
        for c in "스타벅스투썸플레이스광동비타뷁똠".chars() {
            assert_ne!(f.glyph_id(c), GlyphId(0), "no glyph for {c}");
        }
        assert_ne!(f.glyph_id('A'), GlyphId(0));
        assert_ne!(f.glyph_id('…'), GlyphId(0));
    }

    #[test]
    fn every_kind_decodes_to_its_size() {
        for kind in ImageKind::ALL {
            let sub = kind.is_goods().then_some("카페 아메리카노 T");
            let img = decode(&render_png(kind, "스타벅스", sub));
            assert_eq!(img.dimensions(), kind.size(), "{kind:?}");
        }
    }

    #[test]
    fn slugs_round_trip() {
        for kind in ImageKind::ALL {
            let parsed = if kind.is_goods() {
                ImageKind::parse_goods(kind.slug())
            } else {
                ImageKind::parse_brand(kind.slug())
            };
            assert_eq!(parsed, Some(kind));
        }
        assert_eq!(ImageKind::parse_goods("icon"), None);
        assert_eq!(ImageKind::parse_brand("s"), None);
        assert_eq!(ImageKind::parse_goods(""), None);
    }

    /// Pixels that are (nearly) white are text: the background never gets that light.
    fn text_pixels(img: &image::RgbaImage) -> usize {
        img.pixels()
            .filter(|p| p[0] > 230 && p[1] > 230 && p[2] > 230)
            .count()
    }

    #[test]
    fn hangul_text_is_drawn() {
        let img = decode(&render_png(ImageKind::BrandBanner, "스타벅스", None));
        let n = text_pixels(&img);
        assert!(n > 500, "only {n} text pixels");
        // And the same card without text has none.
        let mut blank = RgbImage::new(600, 200);
        paint_background(&mut blank, &Palette::for_name("스타벅스"));
        assert_eq!(
            blank
                .pixels()
                .filter(|p| p[0] > 230 && p[1] > 230 && p[2] > 230)
                .count(),
            0
        );
    }

    #[test]
    fn goods_images_draw_both_lines_and_stay_inside() {
        let long =
            "스트로베리 초콜릿 생크림 케이크 1호 + 아메리카노 R 2잔 기프트 세트 스페셜 에디션";
        for kind in [
            ImageKind::GoodsSmall,
            ImageKind::GoodsBig,
            ImageKind::GoodsDesc,
            ImageKind::GoodsMms,
        ] {
            let with = text_pixels(&decode(&render_png(kind, "투썸플레이스", Some(long))));
            let without = text_pixels(&decode(&render_png(kind, "투썸플레이스", None)));
            assert!(with > 0 && without > 0, "{kind:?}");
        }
        // Very long titles are shrunk / cut, never a panic.
        let title = "가".repeat(300);
        for kind in ImageKind::ALL {
            let img = decode(&render_png(kind, &title, Some(&title)));
            assert_eq!(img.dimensions(), kind.size());
        }
        let _ = render_png(ImageKind::BrandThumb, "", Some(""));
    }

    #[test]
    fn different_brands_get_different_colours() {
        let a = render(ImageKind::BrandThumb, "스타벅스", None);
        let b = render(ImageKind::BrandThumb, "투썸플레이스", None);
        assert_ne!(a.get_pixel(1, 1), b.get_pixel(1, 1));
    }

    #[test]
    fn the_cache_renders_once() {
        let cache = ImageCache::new();
        let a = cache.png(
            "goods:G00000280811",
            ImageKind::GoodsSmall,
            "세븐일레븐",
            Some("광동)비타500 100ml 병"),
        );
        let b = cache.png(
            "goods:G00000280811",
            ImageKind::GoodsSmall,
            "세븐일레븐",
            Some("광동)비타500 100ml 병"),
        );
        assert_eq!(a, b);
        assert_eq!(cache.renders(), 1);
        // Another kind of the same subject is another picture.
        cache.png(
            "goods:G00000280811",
            ImageKind::GoodsBig,
            "세븐일레븐",
            Some("광동)비타500 100ml 병"),
        );
        assert_eq!(cache.renders(), 2);
        // A renamed subject is rendered again.
        cache.png(
            "goods:G00000280811",
            ImageKind::GoodsSmall,
            "세븐일레븐",
            Some("광동)비타500 180ml 병"),
        );
        assert_eq!(cache.renders(), 3);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = ImageCache::with_capacity(3);
        for i in 0..10 {
            cache.png(
                &format!("brand:BR{i:05}"),
                ImageKind::BrandThumb,
                "CU",
                None,
            );
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.renders(), 10);
    }
}
